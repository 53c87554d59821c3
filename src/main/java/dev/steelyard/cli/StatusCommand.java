package dev.steelyard.cli;

import dev.steelyard.admin.v1.AppList;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.ProxyList;
import dev.steelyard.admin.v1.ProxyState;
import dev.steelyard.admin.v1.ServerStatus;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the server, every app's split and the connected proxies.")
final class StatusCommand implements Callable<Integer> {

  @Mixin AdminOptions admin;
  @Option(names = {"-o", "--output"}, defaultValue = "text",
      description = "text or json: {\"status\": ServerStatus, \"apps\": [AppState], "
          + "\"proxies\": [ProxyState]}, in the REST API's JSON")
  Output.Format output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    return Output.run(spec, () -> {
      AdminClient client = admin.client();
      PrintWriter out = spec.commandLine().getOut();
      ServerStatus status = client.get("api/v1/status", ServerStatus.newBuilder()).build();
      if (output == Output.Format.json) {
        AppList apps = client.get("api/v1/apps", AppList.newBuilder()).build();
        ProxyList proxies = client.get("api/v1/proxies", ProxyList.newBuilder()).build();
        out.println(json(status, apps, proxies));
        return;
      }
      out.printf("steelyard %s, apps from %s, admin token %s%n", status.getVersion(),
          status.getSource(), status.getAuthRequired() ? "required" : "NOT SET");
      if (!status.getPublishError().isEmpty()) {
        out.println("publish error: " + status.getPublishError());
      }
      if (!status.getSourceError().isEmpty()) {
        out.println("source error (serving the last good apps): " + status.getSourceError());
      }
      for (AppState app : client.get("api/v1/apps", AppList.newBuilder()).build()
          .getAppsList()) {
        out.println();
        Output.printApp(out, app);
      }
      ProxyList proxies = client.get("api/v1/proxies", ProxyList.newBuilder()).build();
      out.printf("%nproxies: %d connected%n", proxies.getProxiesCount());
      for (ProxyState proxy : proxies.getProxiesList()) {
        out.printf("  %-30s %-8s acked %s%s%s%n", proxy.getNodeId(), proxy.getKind(),
            proxy.getAckedVersionsMap(),
            proxy.getCalls().isEmpty() ? "" : "  calls " + proxy.getCalls(),
            proxy.hasLastNack()
                ? "  last NACK (" + proxy.getLastNack().getType() + " "
                + proxy.getLastNack().getRejectedVersion() + "): "
                + proxy.getLastNack().getMessage() : "");
      }
    });
  }

  private static String json(ServerStatus status, AppList apps, ProxyList proxies) {
    ObjectMapper mapper = new ObjectMapper();
    try {
      ObjectNode all = mapper.createObjectNode();
      all.set("status", mapper.readTree(Output.json(status)));
      // The JSON mapping leaves out empty lists; here they are part of the shape.
      all.set("apps", listIn(mapper, Output.json(apps), "apps"));
      all.set("proxies", listIn(mapper, Output.json(proxies), "proxies"));
      return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(all);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode listIn(ObjectMapper mapper, String json, String field)
      throws com.fasterxml.jackson.core.JsonProcessingException {
    JsonNode list = mapper.readTree(json).get(field);
    return list != null ? list : mapper.createArrayNode();
  }
}
