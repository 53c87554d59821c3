package dev.steelyard.demo;

import dev.steelyard.demo.v1.StreamRequest;
import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The methods of {@code steelyard.demo.v1.RoleService} (proto/steelyard/demo/v1/role.proto),
 * declared by hand: two methods do not justify a second code generator in the build.
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

  public static final MethodDescriptor<StreamRequest, WhoAreYouReply> STREAM =
      MethodDescriptor.<StreamRequest, WhoAreYouReply>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Stream"))
          .setRequestMarshaller(ProtoUtils.marshaller(StreamRequest.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(WhoAreYouReply.getDefaultInstance()))
          .build();

  private RoleServiceDescriptor() {}
}
