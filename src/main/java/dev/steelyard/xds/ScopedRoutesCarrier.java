package dev.steelyard.xds;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import java.io.InputStream;

/**
 * Carries scoped routes (SRDS) through java-control-plane, which sends only the types it knows
 * (any other type URL fails its send with "Unsupported API version"). Inside the server,
 * scoped routes travel under the secrets type URL, which Steelyard never serves: a request is
 * renamed as it is decoded, a response as it is encoded, so a client only ever sees the SRDS
 * type URL. A real secrets request is renamed to a type URL nothing serves, and refused.
 */
final class ScopedRoutesCarrier {

  /** The type URL scoped routes have between the decoder and the encoder. */
  static final String CARRIED_AS = Resources.V3.SECRET_TYPE_URL;
  /** What a client's own secrets request is renamed to. */
  static final String SECRETS_NOT_SERVED = Resources.V3.SECRET_TYPE_URL + " (secrets)";

  private ScopedRoutesCarrier() {}

  /** {@code service} with its state-of-the-world requests and responses renamed. */
  static ServerServiceDefinition wrap(ServerServiceDefinition service) {
    ServerServiceDefinition.Builder wrapped = ServerServiceDefinition.builder(
        service.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      MethodDescriptor<?, ?> descriptor = method.getMethodDescriptor();
      if (descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> in
          && in.getMessagePrototype() instanceof DiscoveryRequest) {
        wrapped.addMethod(renamed(cast(method)));
      } else {
        wrapped.addMethod(method);
      }
    }
    return wrapped.build();
  }

  @SuppressWarnings("unchecked")
  private static ServerMethodDefinition<DiscoveryRequest, DiscoveryResponse> cast(
      ServerMethodDefinition<?, ?> method) {
    return (ServerMethodDefinition<DiscoveryRequest, DiscoveryResponse>) method;
  }

  private static ServerMethodDefinition<DiscoveryRequest, DiscoveryResponse> renamed(
      ServerMethodDefinition<DiscoveryRequest, DiscoveryResponse> method) {
    MethodDescriptor<DiscoveryRequest, DiscoveryResponse> descriptor =
        method.getMethodDescriptor();
    MethodDescriptor.Marshaller<DiscoveryRequest> requests = descriptor.getRequestMarshaller();
    MethodDescriptor.Marshaller<DiscoveryResponse> responses =
        descriptor.getResponseMarshaller();
    MethodDescriptor.Marshaller<DiscoveryRequest> in = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(DiscoveryRequest request) {
        return requests.stream(request);
      }

      @Override
      public DiscoveryRequest parse(InputStream stream) {
        return inbound(requests.parse(stream));
      }
    };
    MethodDescriptor.Marshaller<DiscoveryResponse> out = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(DiscoveryResponse response) {
        return responses.stream(outbound(response));
      }

      @Override
      public DiscoveryResponse parse(InputStream stream) {
        return responses.parse(stream);
      }
    };
    return ServerMethodDefinition.create(descriptor.toBuilder(in, out).build(),
        method.getServerCallHandler());
  }

  /** A request as java-control-plane is to see it. */
  static DiscoveryRequest inbound(DiscoveryRequest request) {
    String typeUrl = request.getTypeUrl();
    if (typeUrl.equals(XdsType.SCOPED_ROUTES.typeUrl())) {
      return request.toBuilder().setTypeUrl(CARRIED_AS).build();
    }
    if (typeUrl.equals(CARRIED_AS)) {
      return request.toBuilder().setTypeUrl(SECRETS_NOT_SERVED).build();
    }
    return request;
  }

  /** A response as the client is to see it. */
  static DiscoveryResponse outbound(DiscoveryResponse response) {
    return response.getTypeUrl().equals(CARRIED_AS)
        ? response.toBuilder().setTypeUrl(XdsType.SCOPED_ROUTES.typeUrl()).build()
        : response;
  }
}
