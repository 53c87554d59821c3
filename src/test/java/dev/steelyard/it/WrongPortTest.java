package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.steelyard.cli.SteelyardCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** The CLI pointed at the xDS port instead of the admin API: both sides say so in one line. */
class WrongPortTest {

  private static final String GRPC_TRANSPORT_LOGGER =
      "io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport";

  @Test
  void statusAgainstTheXdsPortSaysSoAndTheServerLogsOneLine(@TempDir Path dir)
      throws Exception {
    Logger transport = (Logger) LoggerFactory.getLogger(GRPC_TRANSPORT_LOGGER);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    transport.addAppender(events);
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.empty())) {
      String xds = "http://127.0.0.1:" + mesh.server.xdsPort();
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cli = SteelyardCommand.commandLine();
      cli.setOut(new PrintWriter(out));
      cli.setErr(new PrintWriter(err));

      int code = cli.execute("status", "--admin", xds);

      assertThat(code).isEqualTo(1);
      assertThat(out.toString()).isEmpty();
      assertThat(err.toString()).isEqualTo("steelyard: --admin " + xds
          + ": not an HTTP/1.1 admin API (is that the xDS port?)" + System.lineSeparator());
      await().atMost(Duration.ofSeconds(5)).until(() -> !events.list.isEmpty());
      ILoggingEvent event = events.list.get(0);
      assertThat(event.getThrowableProxy()).as("no stack trace").isNull();
      assertThat(event.getFormattedMessage()).doesNotContain("\n")
          .startsWith("xDS connection: Transport failed: Http2Exception: Unexpected HTTP/1.x "
              + "request: GET /api/v1/status")
          .endsWith("(an HTTP/1.1 client on the xDS port? the admin API has a port of its own)");
      assertThat(java.util.logging.Logger.getLogger(GRPC_TRANSPORT_LOGGER).getUseParentHandlers())
          .as("java.util.logging's console handler no longer prints it").isFalse();
    } finally {
      transport.detachAppender(events);
    }
  }
}
