package dev.steelyard.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.view.AppKey;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class HealthCheckParseTest {

  private static String app(String healthCheck) {
    return """
        apps:
          - name: hello-app
            port: 8080
            endpoints: {main: ["127.0.0.1:9001"]}
        """ + "    healthCheck: " + healthCheck + "\n";
  }

  @Test
  void absentKeysTakeTheDefaultsAndAppsWithoutACheckHaveNone() throws Exception {
    AppFileParser.Parsed parsed = AppFileParser.read(app("{type: http}") + """
          - name: other
            port: 8080
            endpoints: {main: ["127.0.0.1:9002"]}
        """);
    assertThat(parsed.healthChecks()).containsOnlyKeys(new AppKey("default", "hello-app"));
    assertThat(parsed.healthChecks().get(new AppKey("default", "hello-app"))).isEqualTo(
        new HealthCheck(HealthCheck.Type.HTTP, "/healthz", Duration.ofSeconds(2),
            Duration.ofSeconds(1), 2, 1));
    assertThat(AppFileParser.read(app("{type: grpc, interval: 500ms, timeout: 200ms, "
        + "unhealthyThreshold: 3, healthyThreshold: 2}")).healthChecks().values())
        .containsExactly(new HealthCheck(HealthCheck.Type.GRPC, "/healthz",
            Duration.ofMillis(500), Duration.ofMillis(200), 3, 2));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{type: icmp}|apps[0] default/hello-app: healthCheck.type 'icmp' must be tcp, http or grpc",
      "{type: tcp, path: /x}|apps[0] default/hello-app: healthCheck.path is only for type http",
      "{interval: 2}|apps[0] default/hello-app: healthCheck.interval '2' must be a duration "
          + "such as 2s or 500ms",
      "{interval: 1s, timeout: 2s}|apps[0] default/hello-app: healthCheck: timeout 2000 ms is "
          + "longer than interval 1000 ms",
      "{unhealthyThreshold: 0}|apps[0] default/hello-app: healthCheck: thresholds must be >= 1",
      "{type: http, path: healthz}|apps[0] default/hello-app: healthCheck: path 'healthz' must "
          + "start with /",
      "{every: 2s}|apps[0].healthCheck: unknown key 'every'; expected one of healthyThreshold, "
          + "interval, path, timeout, type, unhealthyThreshold",
      "[tcp]|apps[0].healthCheck: expected a map with type, path, interval, timeout, "
          + "unhealthyThreshold and healthyThreshold, got a list",
  })
  void badHealthChecksAreRejectedWithWhereAndWhy(String healthCheck, String message) {
    assertThatThrownBy(() -> AppFileParser.read(app(healthCheck)))
        .isInstanceOf(InvalidAppFileException.class)
        .hasMessageStartingWith(message);
  }
}
