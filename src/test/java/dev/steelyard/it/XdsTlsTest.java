package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.xds.XdsAuth;
import io.envoyproxy.controlplane.cache.Resources;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS port over TLS with client certificates: grpc-java's real xDS client comes in with
 * the certificate its bootstrap names, a certificate speaks for its own node id only, and a
 * client without one does not get in.
 */
class XdsTlsTest {

  private static final List<String> HELLO_ROUTES = List.of("grpc/default/hello-app");

  private TestMesh mesh;
  private TestCertificates certificates;

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    certificates = new TestCertificates(dir, "steelyard-test");
    TestCertificates.Issued server = certificates.issue("localhost");
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
    mesh.stopServer();
    mesh.xdsAuth = new XdsAuth(Optional.empty(), Optional.of(new XdsAuth.Tls(
        server.certificate(), server.privateKey(), Optional.of(certificates.caFile))));
    mesh.start(0);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void aGrpcClientWithItsCertificateIsServedAndShownByTheCertificatesNames() throws Exception {
    TestCertificates.Issued client = certificates.issue("grpc-client-1");
    try (XdsTestClient grpc = new XdsTestClient(mesh.server.xdsPort(), "grpc-client-1",
        "hello-app", Map.of("type", FileMtlsXdsCredentials.NAME, "config", Map.of(
            "ca_certificate_file", certificates.caFile.toString(),
            "certificate_file", client.certificate().toString(),
            "private_key_file", client.privateKey().toString())))) {
      mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":0}");
      assertThat(grpc.call()).isEqualTo("main");
      ProxyStatus proxy = mesh.server.proxies().proxies().get(0);
      assertThat(proxy.nodeId()).isEqualTo("grpc-client-1");
      assertThat(proxy.peer().method()).isEqualTo("certificate");
      assertThat(proxy.peer().identity()).contains("grpc-client-1");
      assertThat(mesh.get("/api/v1/proxies").body())
          .contains("\"authMethod\": \"certificate\"").contains("\"identity\": \"grpc-client-1");
    }
  }

  @Test
  void aCertificateDoesNotSpeakForAnotherNode() throws Exception {
    TestCertificates.Issued other = certificates.issue("someone-else");
    try (RawAdsStream stream = new RawAdsStream(tlsChannel(other), "grpc-client-1", "grpc",
        Optional.empty())) {
      stream.request(Resources.V3.ROUTE_TYPE_URL, HELLO_ROUTES);
      Status status = Status.fromThrowable(stream.closedWithError.get(10, TimeUnit.SECONDS));
      assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(status.getDescription()).contains("not a name of the client certificate");
    }
    assertThat(mesh.server.proxies().proxies()).isEmpty();
  }

  @Test
  void withoutACertificateThereIsNoStream() throws Exception {
    ManagedChannel noCertificate = NettyChannelBuilder.forAddress("127.0.0.1",
            mesh.server.xdsPort())
        .sslContext(GrpcSslContexts.forClient().trustManager(certificates.caFile.toFile())
            .build())
        .overrideAuthority("localhost").build();
    try (RawAdsStream stream = new RawAdsStream(noCertificate, "grpc-client-1", "grpc",
        Optional.empty())) {
      stream.request(Resources.V3.ROUTE_TYPE_URL, HELLO_ROUTES);
      Status status = Status.fromThrowable(stream.closedWithError.get(10, TimeUnit.SECONDS));
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
    assertThat(mesh.server.proxies().proxies()).isEmpty();
  }

  private ManagedChannel tlsChannel(TestCertificates.Issued client) throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", mesh.server.xdsPort())
        .sslContext(GrpcSslContexts.forClient().trustManager(certificates.caFile.toFile())
            .keyManager(client.certificate().toFile(), client.privateKey().toFile()).build())
        .overrideAuthority("localhost").build();
  }
}
