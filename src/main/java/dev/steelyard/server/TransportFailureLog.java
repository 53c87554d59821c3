package dev.steelyard.server;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import dev.steelyard.net.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * grpc-netty-shaded logs a failed connection ("Transport failed") through java.util.logging,
 * with a stack trace, on stderr, bypassing logback: an HTTP/1.1 client pointed at the xDS port
 * printed 25 lines per request. This sends that logger's records to SLF4J, one line each, under
 * the same logger name, so logback.xml sets its level like any other. The same goes for the
 * server handler's "Stream Error" (a client resetting or breaking a stream). Both are caused by
 * clients, so warnings are rate-limited.
 */
final class TransportFailureLog {

  static final String LOGGER = "io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport";
  static final String HANDLER_LOGGER = "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler";

  // java.util.logging holds loggers weakly; a collected one would lose the handler set here.
  private static final java.util.logging.Logger GRPC = java.util.logging.Logger.getLogger(LOGGER);
  private static final java.util.logging.Logger HANDLER =
      java.util.logging.Logger.getLogger(HANDLER_LOGGER);
  private static boolean installed;

  private TransportFailureLog() {}

  static synchronized void install() {
    if (installed) {
      return;
    }
    route(GRPC, LOGGER);
    route(HANDLER, HANDLER_LOGGER);
    installed = true;
  }

  private static void route(java.util.logging.Logger from, String name) {
    Logger log = LoggerFactory.getLogger(name);
    RateLimitedLog warnings = new RateLimitedLog(log, 20);
    from.setUseParentHandlers(false);
    from.addHandler(new Handler() {
      @Override
      public void publish(LogRecord record) {
        String line = line(record);
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
          warnings.warn("{}", line);
        } else if (record.getLevel().intValue() >= Level.INFO.intValue()) {
          log.info(line);
        } else {
          log.debug(line);
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
  }

  static String line(LogRecord record) {
    StringBuilder line = new StringBuilder("xDS connection: ")
        .append(String.valueOf(record.getMessage()));
    Throwable thrown = record.getThrown();
    if (thrown != null) {
      String message = thrown.getMessage() == null ? "" : thrown.getMessage().strip();
      line.append(": ").append(thrown.getClass().getSimpleName())
          .append(message.isEmpty() ? "" : ": " + message);
      if (message.contains("HTTP/1.x")) {
        line.append(" (an HTTP/1.1 client on the xDS port? the admin API has a port of its own)");
      }
    }
    return line.toString();
  }
}
