package dev.steelyard.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AppFileParserTest {

  @Test
  void theDocumentedShapeParses() throws InvalidAppFileException {
    List<AppSpec> apps = AppFileParser.parse("""
        apps:
          - name: hello-app
            namespace: default
            port: 8080                        # port of the endpoints
            gatewayHosts: [hello-app.example.com]
            endpoints:                        # ip:port, by role; a role may be absent or empty
              main: ["127.0.0.1:9002", "127.0.0.1:9001"]
              baseline: []
              canary: ["127.0.0.1:9003"]
          - name: other
            port: 9000
            protocol: grpc
            endpoints:
              main: ["10.0.0.1", "[fd00::1]:9100"]
        """);
    assertThat(apps).hasSize(2);
    AppSpec hello = apps.get(0);
    assertThat(hello.key()).isEqualTo(new AppKey("default", "hello-app"));
    assertThat(hello.protocol()).isEqualTo(AppProtocol.HTTP);
    assertThat(hello.endpoints(SubsetRole.MAIN)).containsExactly(
        new Endpoint("127.0.0.1", 9001), new Endpoint("127.0.0.1", 9002));
    assertThat(hello.endpoints(SubsetRole.BASELINE)).isEmpty();
    AppSpec other = apps.get(1);
    assertThat(other.key().namespace()).isEqualTo("default");
    assertThat(other.protocol()).isEqualTo(AppProtocol.GRPC);
    assertThat(other.endpoints(SubsetRole.MAIN)).containsExactly(
        new Endpoint("10.0.0.1", 9000), new Endpoint("fd00::1", 9100));
    assertThat(other.endpoints(SubsetRole.CANARY)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "malformed YAML | 'apps: [ {name: a, port: 1'                                | malformed YAML",
      "no apps list   | 'other: 1'                                                 | the file: unknown key 'other'; expected apps (line 1",
      "empty file     | ''                                                        | the file is empty",
      "apps is null   | 'apps:'                                                   | no 'apps' list",
      "unknown key    | 'apps: [{name: a, port: 1, weight: 3}]'                   | apps[0]: unknown key 'weight'; expected one of endpoints, gatewayHosts, healthCheck, name, namespace, port, protocol (line 1, column 37)",
      "apps not list  | 'apps: 3'                                                 | apps: expected a list of apps, got '3' (line 1, column 7)",
      "file is a list | '[1, 2]'                                                  | the file: expected a map with an 'apps' list, got a list",
      "app not a map  | 'apps: [foo]'                                             | apps[0]: expected an app: a map with name, port, endpoints and so on, got 'foo'",
      "port as text   | 'apps: [{name: a, port: eighty}]'                         | apps[0].port: expected a port number 1..65535, got 'eighty'",
      "name as list   | 'apps: [{name: [a], port: 1}]'                            | apps[0].name: expected a DNS label, got a list",
      "hosts as text  | 'apps: [{name: a, port: 1, gatewayHosts: a.io}]'          | apps[0].gatewayHosts: expected a list of host names, got 'a.io'",
      "endpoints list | 'apps: [{name: a, port: 1, endpoints: [\"1.2.3.4\"]}]'    | apps[0].endpoints: expected a map of role to list of endpoints, got a list",
      "role as text   | 'apps: [{name: a, port: 1, endpoints: {main: 1.2.3.4}}]'  | apps[0].endpoints.main: expected a list of endpoints (ip or ip:port), got '1.2.3.4'",
      "endpoint a map | 'apps: [{name: a, port: 1, endpoints: {main: [{ip: x}]}}]' | apps[0].endpoints.main[0]: expected an endpoint (ip or ip:port), got a map",
      "bad name       | 'apps: [{name: Hello_App, port: 1}]'                      | apps[0] default/Hello_App: name 'Hello_App' must be a DNS label",
      "missing port   | 'apps: [{name: a}]'                                       | apps[0] default/a: port must be set to 1..65535",
      "port too big   | 'apps: [{name: a, port: 70000}]'                          | port must be set to 1..65535 (got 70000)",
      "unknown role   | 'apps: [{name: a, port: 1, endpoints: {blue: []}}]'       | unknown role 'blue'",
      "not an IP      | 'apps: [{name: a, port: 1, endpoints: {main: [\"pod-1:80\"]}}]' | endpoints.main[0]: endpoint 'pod-1:80': 'pod-1' is not an IP address",
      "bad port       | 'apps: [{name: a, port: 1, endpoints: {main: [\"1.2.3.4:x\"]}}]' | non-numeric port",
      "endpoint twice | 'apps: [{name: a, port: 1, endpoints: {main: [\"1.2.3.4\"], canary: [\"1.2.3.4:1\"]}}]' | belongs to one role",
      "app twice      | 'apps: [{name: a, port: 1}, {name: a, port: 2}]'          | apps[1] default/a: declared twice",
      "host twice     | 'apps: [{name: a, port: 1, gatewayHosts: [x.io]}, {name: b, port: 1, gatewayHosts: [x.io]}]' | gateway host 'x.io' is already used by default/a",
      "host, 2 cases  | 'apps: [{name: a, port: 1, gatewayHosts: [X.io]}, {name: b, port: 1, gatewayHosts: [x.IO]}]' | gateway host 'x.io' is already used by default/a",
      "bad host       | 'apps: [{name: a, port: 1, gatewayHosts: [\"a b\"]}]'     | gatewayHosts[0]: 'a b' is not a host name",
      "bad protocol   | 'apps: [{name: a, port: 1, protocol: udp}]'               | unknown protocol 'udp'",
  })
  void badFilesAreRejectedWithWhereAndWhy(String name, String yaml, String message) {
    assertThatThrownBy(() -> AppFileParser.parse(yaml))
        .isInstanceOf(InvalidAppFileException.class)
        .hasMessageContaining(message)
        .hasMessageNotContaining("java.")
        .hasMessageNotContaining("AppEntry");
  }
}
