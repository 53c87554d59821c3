package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.steelyard.admin.AdminServer;
import dev.steelyard.cli.SteelyardCommand;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.split.FileSplitStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Every split change is logged with who made it and how; so are start-up and shutdown. */
class AuditLogTest {

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final List<Logger> loggers = List.of(
      (Logger) LoggerFactory.getLogger(AdminServer.class),
      (Logger) LoggerFactory.getLogger(SteelyardServer.class),
      (Logger) LoggerFactory.getLogger(FileSplitStore.class));

  @BeforeEach
  void listen() {
    events.start();
    loggers.forEach(logger -> logger.addAppender(events));
  }

  @AfterEach
  void stopListening() {
    loggers.forEach(logger -> logger.detachAppender(events));
  }

  @Test
  void aChangeThroughRestOrTheCliNamesTheCaller(@TempDir Path dir) throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.of("tok"))) {
      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":5}").statusCode())
          .isEqualTo(200);
      CommandLine cli = SteelyardCommand.commandLine();
      cli.setOut(new PrintWriter(new StringWriter()));
      assertThat(cli.execute("split", "set", "hello-app", "--gateway-mode", "test",
          "--gateway-weight", "10", "--admin", mesh.admin(), "--token", "tok")).isZero();
      mesh.stopServer();

      assertThat(messages()).anyMatch(line -> line.startsWith("no splits stored yet")
          && line.endsWith(dir.resolve("data/splits.json").toAbsolutePath().toString()));
      assertThat(messages()).anyMatch(line -> line.matches(
          "split of default/hello-app set to mesh test 5.0, gateway following mesh \\(was mesh "
              + "off 0.0, gateway following mesh\\) by the admin token via REST from "
              + "127.0.0.1:\\d+"));
      assertThat(messages()).anyMatch(line -> line.startsWith(
          "split of default/hello-app set to mesh test 5.0, gateway test 10.0 (was mesh test "
              + "5.0, gateway following mesh) by the admin token via CLI from 127.0.0.1:"));
      assertThat(messages()).containsSequence(
          "stopping: closing the admin API and the xDS streams", "stopped");
    }
  }

  @Test
  void withoutATokenTheCallerIsUnauthenticatedAndARestartSaysWhereSplitsCameFrom(
      @TempDir Path dir) throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.empty())) {
      assertThat(mesh.putSplit("{\"mode\":\"off\"}").statusCode()).isEqualTo(200);
      assertThat(messages()).anyMatch(line -> line.contains("by unauthenticated via REST"));
      mesh.stopServer();
      mesh.start(0);
      assertThat(messages()).contains("loaded the splits of 1 app(s) from "
          + dir.resolve("data/splits.json").toAbsolutePath());
    }
  }

  private List<String> messages() {
    return events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
