package dev.steelyard.demo;

import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The method of {@code steelyard.demo.v1.RoleService} (proto/steelyard/demo/v1/role.proto),
 * declared by hand: one unary method does not justify a second code generator in the build.
 */
public final class RoleServiceDescriptor {

  public static final String SERVICE = "steelyard.demo.v1.RoleService";

  public static final MethodDescriptor<WhoAreYouRequest, WhoAreYouReply> WHO_ARE_YOU =
      MethodDescriptor.<WhoAreYouRequest, WhoAreYouReply>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "WhoAreYou"))
          .setRequestMarshaller(ProtoUtils.marshaller(WhoAreYouRequest.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(WhoAreYouReply.getDefaultInstance()))
          .build();

  private RoleServiceDescriptor() {}
}
