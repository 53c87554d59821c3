package dev.steelyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppFileParser;
import dev.steelyard.source.StaticAppCatalog;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where {@code serve} listens: without an admin token the admin port stays on loopback unless
 * {@code --bind} says otherwise; the xDS port keeps listening on every interface. Checked over
 * real sockets: on Linux a socket bound to 127.0.0.1 does not answer on 127.0.0.2, one bound to
 * 0.0.0.0 does.
 */
class ServeBindingTest {

  private static final String APPS = """
      apps:
        - name: hello-app
          port: 8080
          endpoints: {main: ["127.0.0.1:9001"]}
      """;

  private static ServeCommand parse(String... args) {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve;
  }

  @Test
  void withoutATokenTheAdminPortListensOnLoopbackOnly(@TempDir Path dir) throws Exception {
    ServerConfig config = parse("--data-dir", dir.resolve("data").toString(),
        "--xds-port", "0", "--admin-port", "0").serverConfig();
    assertThat(config.adminToken()).isEmpty();
    assertThat(config.adminBindHost()).isEqualTo("127.0.0.1");
    assertThat(config.bindHost()).isEqualTo("0.0.0.0");
    try (SteelyardServer server = start(config)) {
      assertThat(accepts("127.0.0.1", server.adminPort())).isTrue();
      assertThat(accepts("127.0.0.2", server.adminPort())).as("admin on 127.0.0.2").isFalse();
      assertThat(accepts("127.0.0.2", server.xdsPort())).as("xDS on 127.0.0.2").isTrue();
    }
  }

  @Test
  void anExplicitBindOrATokenOpensTheAdminPort(@TempDir Path dir) throws Exception {
    ServerConfig bound = parse("--data-dir", dir.resolve("data").toString(),
        "--xds-port", "0", "--admin-port", "0", "--bind", "0.0.0.0").serverConfig();
    assertThat(bound.adminBindHost()).isEqualTo("0.0.0.0");
    try (SteelyardServer server = start(bound)) {
      assertThat(accepts("127.0.0.2", server.adminPort())).isTrue();
    }
    Path token = Files.writeString(dir.resolve("token"), "t0ken\n");
    ServerConfig withToken = parse("--data-dir", dir.resolve("data").toString(),
        "--admin-token-file", token.toString()).serverConfig();
    assertThat(withToken.adminBindHost()).isEqualTo("0.0.0.0");
    ServerConfig adminOnly = parse("--data-dir", dir.resolve("data").toString(),
        "--admin-token-file", token.toString(), "--bind", "0.0.0.0", "--admin-bind",
        "127.0.0.1").serverConfig();
    assertThat(adminOnly.adminBindHost()).isEqualTo("127.0.0.1");
    assertThat(adminOnly.bindHost()).isEqualTo("0.0.0.0");
  }

  @Test
  void aConnectionCapBelowOneIsRefused(@TempDir Path dir) {
    assertThatThrownBy(() -> parse("--data-dir", dir.toString(), "--max-connections", "0")
        .serverConfig()).hasMessageContaining("--max-connections must be at least 1");
  }

  private static SteelyardServer start(ServerConfig config) throws Exception {
    return new SteelyardServer(config,
        new StaticAppCatalog(AppFileParser.parse(APPS), "test apps")).start();
  }

  private static boolean accepts(String host, int port) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 2_000);
      return true;
    } catch (ConnectException e) {
      return false;
    }
  }
}
