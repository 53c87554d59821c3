package dev.steelyard.xds;

import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The xDS service as the port serves it: java-control-plane's ADS implementation behind the
 * checks that keep one client from harming the server or the other clients. From the outside
 * in: authentication, decoding (as bytes, so a bad message is refused cleanly), and response
 * flow control; innermost, scoped routes renamed for java-control-plane and back
 * ({@link ScopedRoutesCarrier}), and each response's resources encoded once for all the streams
 * it goes to ({@link ResponseBytes}).
 */
public final class XdsService {

  private XdsService() {}

  public static ServerServiceDefinition guarded(BindableService ads, XdsAuth auth,
      XdsLimits limits, MeterRegistry meters) {
    ServerServiceDefinition typed = ServerInterceptors.intercept(
        ScopedRoutesCarrier.wrap(ResponseBytes.sharing(ads.bindService(), meters)),
        new ResponseFlow(limits.maxRequestsWhileBlocked(), meters));
    ServerServiceDefinition bytes = ServerInterceptors.useInputStreamMessages(typed);
    // The last interceptor listed runs first.
    return ServerInterceptors.intercept(bytes, new DecodeGuard(),
        new XdsAuthentication(auth.token(), auth.clientCertificates(), meters));
  }

  /**
   * The Load Reporting Service as the port serves it: the same authentication as ADS (a report
   * is trusted like an ACK); messages are small and counted, so no response flow control.
   */
  public static ServerServiceDefinition guardedLoadReports(BindableService lrs, XdsAuth auth,
      MeterRegistry meters) {
    return ServerInterceptors.intercept(lrs,
        new XdsAuthentication(auth.token(), auth.clientCertificates(), meters));
  }
}
