package dev.steelyard.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples from a Prometheus server: a PromQL template, with {@code ${namespace}}, {@code
 * ${app}}, {@code ${role}} and {@code ${cluster}} (the subset cluster's name, {@code
 * namespace/app/role}, as Envoy labels its cluster series) filled in, evaluated with {@code
 * /api/v1/query_range} at {@code step}. The query must return one series (aggregate with
 * {@code sum} or {@code histogram_quantile} where a metric has more); each step's value is one
 * sample, NaN where Prometheus says so.
 */
public final class PrometheusSource {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  public PrometheusSource(URI base) {
    this.base = base;
  }

  public URI base() {
    return base;
  }

  /** The template with the placeholders filled in for {@code app}'s {@code role}. */
  public static String fill(String template, AppKey app, SubsetRole role) {
    return template.replace("${namespace}", app.namespace())
        .replace("${app}", app.name())
        .replace("${role}", role.label())
        .replace("${cluster}", ResourceNames.cluster(app, role));
  }

  public double[] samples(String template, AppKey app, SubsetRole role, Instant from,
      Instant to, Duration step) throws IOException {
    String query = fill(template, app, role);
    String url = base.toString().replaceAll("/+$", "") + "/api/v1/query_range?query="
        + URLEncoder.encode(query, StandardCharsets.UTF_8)
        + "&start=" + seconds(from) + "&end=" + seconds(to)
        + "&step=" + Math.max(1, step.toMillis()) / 1000.0;
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(URI.create(url))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while asking Prometheus", e);
    }
    JsonNode body;
    try {
      body = JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IOException("Prometheus at " + base + " answered " + response.statusCode()
          + " with something that is not JSON", e);
    }
    if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new IOException("Prometheus refused " + query + ": " + response.statusCode() + " "
          + body.path("errorType").asText() + " " + body.path("error").asText());
    }
    JsonNode series = body.path("data").path("result");
    if (series.size() == 0) {
      return new double[0];
    }
    if (series.size() > 1) {
      throw new IOException("PromQL " + query + " returned " + series.size() + " series; "
          + "aggregate it to one (for example sum(...) or histogram_quantile(...))");
    }
    List<Double> values = new ArrayList<>();
    for (JsonNode point : series.get(0).path("values")) {
      values.add(parse(point.path(1).asText()));
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double parse(String value) {
    return switch (value) {
      case "NaN" -> Double.NaN;
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(value);
    };
  }

  private static String seconds(Instant at) {
    return at.getEpochSecond() + "." + String.format("%03d", at.getNano() / 1_000_000);
  }
}
