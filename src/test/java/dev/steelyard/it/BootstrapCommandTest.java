package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.steelyard.cli.SteelyardCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code steelyard bootstrap}: what it prints for its flags, and what it refuses. */
class BootstrapCommandTest {

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var command = SteelyardCommand.commandLine();
    command.setOut(new PrintWriter(out));
    command.setErr(new PrintWriter(err));
    int exit = command.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void printsASidecarBootstrapForTheGivenControlPlane() throws Exception {
    Run run = run("bootstrap", "--kind", "sidecar", "--xds", "[::1]:19000", "--admin",
        "127.0.0.1:9999", "--node-id", "cart-7d9f.shop", "--cluster", "cart", "--app",
        "shop/cart");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode yaml = new ObjectMapper(new YAMLFactory()).readTree(run.out());
    assertThat(yaml.at("/node/id").asText()).isEqualTo("cart-7d9f.shop");
    assertThat(yaml.at("/node/cluster").asText()).isEqualTo("cart");
    assertThat(yaml.at("/node/metadata").path("steelyard.kind").asText()).isEqualTo("sidecar");
    assertThat(yaml.at("/node/metadata").path("steelyard.app").asText()).isEqualTo("shop/cart");
    JsonNode xds = yaml.at("/static_resources/clusters/0/load_assignment/endpoints/0"
        + "/lb_endpoints/0/endpoint/address/socket_address");
    assertThat(xds.path("address").asText()).isEqualTo("::1");
    assertThat(xds.path("port_value").asInt()).isEqualTo(19000);
    assertThat(yaml.at("/admin/address/socket_address/port_value").asInt()).isEqualTo(9999);
  }

  @Test
  void refusesWhatWouldNotMakeABootstrap() {
    assertThat(run("bootstrap", "--kind", "grpc").exit()).isEqualTo(2);
    assertThat(run("bootstrap", "--kind", "gateway", "--xds", "nohost").err())
        .contains("--xds is 'nohost': expected HOST:PORT");
    assertThat(run("bootstrap", "--kind", "gateway", "--node-id", "a: b").err())
        .contains("--node-id is 'a: b'");
    assertThat(run("bootstrap", "--kind", "gateway", "--app", "shop/cart").err())
        .contains("--app is for sidecars");
  }
}
