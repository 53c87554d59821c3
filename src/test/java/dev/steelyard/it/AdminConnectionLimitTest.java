package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.FileAppCatalog;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin port holds at most --max-connections open and closes idle ones, over raw sockets:
 * 20,400 idle connections once used up the process's file descriptors.
 */
class AdminConnectionLimitTest {

  private static final int CAP = 20;

  @Test
  void connectionsOverTheCapAreClosedAndIdleOnesTimeOut(@TempDir Path dir) throws Exception {
    Path apps = Files.writeString(dir.resolve("apps.yaml"), """
        apps:
          - name: hello-app
            port: 8080
            endpoints: {main: ["127.0.0.1:9001"]}
        """);
    List<Socket> held = new ArrayList<>();
    try (SteelyardServer server = new SteelyardServer(ServerConfig.defaults(dir.resolve("data"))
        .withBindHost("127.0.0.1").withPorts(0, 0).withMaxConnections(CAP)
        .withAdminIdleTimeout(Duration.ofSeconds(2)),
        FileAppCatalog.open(apps, Duration.ofSeconds(1))).start()) {
      int port = server.adminPort();
      for (int i = 0; i < CAP; i++) {
        held.add(connect(port));
      }
      // Each held connection is counted once the server has accepted it.
      await().atMost(Duration.ofSeconds(5)).until(() -> healthz(port).equals("closed"));
      try (Socket over = connect(port)) {
        assertThat(readUntilClosed(over, Duration.ofSeconds(2))).as("over the cap").isTrue();
      }
      // The held ones still work.
      assertThat(request(held.get(0), "/healthz")).startsWith("HTTP/1.1 200");

      for (Socket socket : held.subList(0, 5)) {
        socket.close();
      }
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          healthz(port).startsWith("HTTP/1.1 200"));
      String metrics = request(connect(port), "/metrics");
      assertThat(metrics).contains("steelyard_connections{port=\"admin\"}")
          .containsPattern("steelyard_connections_refused_total\\{port=\"admin\"\\} [1-9]");

      // Idle: the server closes the rest after 2 s without a byte either way.
      long start = System.nanoTime();
      for (Socket socket : held.subList(5, CAP)) {
        assertThat(readUntilClosed(socket, Duration.ofSeconds(6))).as("idle").isTrue();
      }
      long waited = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("idle admin connections closed after %d ms (timeout 2 s)%n", waited);
      assertThat(healthz(port)).startsWith("HTTP/1.1 200");
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
    return socket;
  }

  /** One GET on a new connection: its status line, or "closed" when the server hung up. */
  private static String healthz(int port) throws IOException {
    try (Socket socket = connect(port)) {
      return request(socket, "/healthz");
    } catch (IOException e) {
      return "closed";
    }
  }

  private static String request(Socket socket, String path) throws IOException {
    socket.setSoTimeout(3_000);
    socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    byte[] buffer = new byte[64 * 1024];
    int read = socket.getInputStream().read(buffer);
    return read < 0 ? "closed" : new String(buffer, 0, read, StandardCharsets.US_ASCII);
  }

  /** True when the server closes the connection within {@code within}. */
  private static boolean readUntilClosed(Socket socket, Duration within) throws IOException {
    socket.setSoTimeout((int) within.toMillis());
    InputStream in = socket.getInputStream();
    try {
      while (in.read() >= 0) {
        // Nothing is expected; a close ends the loop.
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
