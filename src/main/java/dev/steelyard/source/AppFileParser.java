package dev.steelyard.source;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.GatewayHosts;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the apps YAML file. Every error names where it is ({@code apps[1] default/web:
 * endpoints.canary[0]: ...}); one bad entry rejects the whole file, so a typo never removes an
 * app's endpoints from the mesh.
 */
public final class AppFileParser {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  private AppFileParser() {}

  /** The file's shape. Keys may be added over time; existing keys keep their meaning. */
  record AppsFile(@JsonProperty("apps") List<AppEntry> apps) {}

  record AppEntry(
      @JsonProperty("name") String name,
      @JsonProperty("namespace") String namespace,
      @JsonProperty("port") Integer port,
      @JsonProperty("protocol") String protocol,
      @JsonProperty("gatewayHosts") List<String> gatewayHosts,
      @JsonProperty("endpoints") Map<String, List<String>> endpoints,
      @JsonProperty("healthCheck") HealthCheckEntry healthCheck) {}

  record HealthCheckEntry(
      @JsonProperty("type") String type,
      @JsonProperty("path") String path,
      @JsonProperty("interval") String interval,
      @JsonProperty("timeout") String timeout,
      @JsonProperty("unhealthyThreshold") Integer unhealthyThreshold,
      @JsonProperty("healthyThreshold") Integer healthyThreshold) {}

  /** The apps, and the health checks of those that declare one. */
  public record Parsed(List<AppSpec> apps, Map<AppKey, HealthCheck> healthChecks) {}

  public static List<AppSpec> parse(String yaml) throws InvalidAppFileException {
    return read(yaml).apps();
  }

  public static Parsed read(String yaml) throws InvalidAppFileException {
    if (yaml.isBlank()) {
      throw new InvalidAppFileException("the file is empty; expected an 'apps' list");
    }
    AppsFile file;
    // A parser of our own rather than readValue(String): it is still open in the catch, so the
    // error can say what token was found.
    JsonParser parser = null;
    try {
      parser = YAML.createParser(yaml);
      file = YAML.readValue(parser, AppsFile.class);
    } catch (MismatchedInputException e) {
      throw new InvalidAppFileException(shapeError(e, parser) + at(e));
    } catch (JsonProcessingException e) {
      throw new InvalidAppFileException("malformed YAML: " + e.getOriginalMessage() + at(e));
    } catch (IOException e) {
      throw new InvalidAppFileException("cannot read the YAML: " + e.getMessage());
    } finally {
      closeQuietly(parser);
    }
    if (file == null || file.apps() == null) {
      throw new InvalidAppFileException("the file has no 'apps' list");
    }
    List<AppSpec> specs = new ArrayList<>();
    Map<AppKey, HealthCheck> healthChecks = new HashMap<>();
    Set<AppKey> seenApps = new HashSet<>();
    GatewayHosts.Owners gatewayHostOwners = new GatewayHosts.Owners();
    for (int i = 0; i < file.apps().size(); i++) {
      AppEntry entry = file.apps().get(i);
      String where = "apps[" + i + "]";
      if (entry == null) {
        throw new InvalidAppFileException(where + ": empty entry");
      }
      AppSpec spec;
      try {
        spec = toSpec(entry);
        if (entry.healthCheck() != null) {
          healthChecks.put(spec.key(), HealthCheck.of(entry.healthCheck()));
        }
      } catch (IllegalArgumentException e) {
        String name = entry.name() == null ? "" : " "
            + (entry.namespace() == null ? "default" : entry.namespace()) + "/" + entry.name();
        throw new InvalidAppFileException(where + name + ": " + e.getMessage());
      }
      if (!seenApps.add(spec.key())) {
        throw new InvalidAppFileException(where + " " + spec.key() + ": declared twice");
      }
      for (String host : spec.gatewayHosts()) {
        Optional<AppKey> owner = gatewayHostOwners.claim(host, spec.key());
        if (owner.isPresent()) {
          throw new InvalidAppFileException(where + " " + spec.key() + ": gateway host '" + host
              + "' is already used by " + owner.get());
        }
      }
      specs.add(spec);
    }
    return new Parsed(List.copyOf(specs), Map.copyOf(healthChecks));
  }

  /**
   * A value of the wrong shape, said in the file's terms: Jackson's own message names Java types
   * ({@code java.util.LinkedHashMap<...>}, {@code AppFileParser$AppEntry}).
   */
  private static String shapeError(MismatchedInputException e, JsonParser parser) {
    StringBuilder where = new StringBuilder();
    List<JsonMappingException.Reference> path = e.getPath();
    int end = e instanceof UnrecognizedPropertyException ? path.size() - 1 : path.size();
    for (JsonMappingException.Reference reference : path.subList(0, Math.max(end, 0))) {
      if (reference.getIndex() >= 0) {
        where.append('[').append(reference.getIndex()).append(']');
      } else {
        where.append(where.length() == 0 ? "" : ".").append(reference.getFieldName());
      }
    }
    String location = where.length() == 0 ? "the file" : where.toString();
    if (e instanceof UnrecognizedPropertyException unknown) {
      List<String> known = unknown.getKnownPropertyIds().stream().map(String::valueOf)
          .sorted().toList();
      return location + ": unknown key '" + unknown.getPropertyName() + "'; expected "
          + (known.size() == 1 ? known.get(0) : "one of " + String.join(", ", known));
    }
    String shape = where.toString().replaceAll("\\[\\d+]", "[]")
        .replaceFirst("^apps\\[]\\.endpoints\\.[^.\\[]+", "apps[].endpoints.ROLE");
    String expected = switch (shape) {
      case "" -> "a map with an 'apps' list";
      case "apps" -> "a list of apps";
      case "apps[]" -> "an app: a map with name, port, endpoints and so on";
      case "apps[].name", "apps[].namespace" -> "a DNS label";
      case "apps[].protocol" -> "http or grpc";
      case "apps[].port" -> "a port number 1..65535";
      case "apps[].gatewayHosts" -> "a list of host names";
      case "apps[].gatewayHosts[]" -> "a host name";
      case "apps[].endpoints" -> "a map of role to list of endpoints";
      case "apps[].endpoints.ROLE" -> "a list of endpoints (ip or ip:port)";
      case "apps[].endpoints.ROLE[]" -> "an endpoint (ip or ip:port)";
      case "apps[].healthCheck" -> "a map with type, path, interval, timeout, "
          + "unhealthyThreshold and healthyThreshold";
      case "apps[].healthCheck.unhealthyThreshold", "apps[].healthCheck.healthyThreshold" ->
          "a whole number >= 1";
      case "apps[].healthCheck.type" -> "tcp, http or grpc";
      case "apps[].healthCheck.interval", "apps[].healthCheck.timeout" ->
          "a duration such as 2s or 500ms";
      default -> "another kind of value";
    };
    return location + ": expected " + expected + got(e, parser);
  }

  /** What was there instead, as YAML calls it. */
  private static String got(MismatchedInputException e, JsonParser parser) {
    if (e instanceof InvalidFormatException invalid) {
      return ", got '" + invalid.getValue() + "'";
    }
    if (parser == null || parser.currentToken() == null) {
      return "";
    }
    try {
      return switch (parser.currentToken()) {
        case START_ARRAY -> ", got a list";
        case START_OBJECT -> ", got a map";
        case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
            ", got '" + parser.getText() + "'";
        default -> "";
      };
    } catch (IOException ignored) {
      return "";
    }
  }

  private static void closeQuietly(JsonParser parser) {
    if (parser != null) {
      try {
        parser.close();
      } catch (IOException ignored) {
        // Parsing a string: nothing to release that matters.
      }
    }
  }

  private static String at(JsonProcessingException e) {
    return e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column "
        + e.getLocation().getColumnNr() + ")" : "";
  }

  private static AppSpec toSpec(AppEntry entry) {
    if (entry.name() == null || !DNS_LABEL.matcher(entry.name()).matches()) {
      throw new IllegalArgumentException("name '" + entry.name()
          + "' must be a DNS label (lower-case letters, digits and '-', at most 63)");
    }
    String namespace = entry.namespace() == null ? "default" : entry.namespace();
    if (!DNS_LABEL.matcher(namespace).matches()) {
      throw new IllegalArgumentException("namespace '" + namespace + "' must be a DNS label");
    }
    if (entry.port() == null || entry.port() < 1 || entry.port() > 65535) {
      throw new IllegalArgumentException("port must be set to 1..65535 (got " + entry.port() + ")");
    }
    AppProtocol protocol =
        entry.protocol() == null ? AppProtocol.HTTP : AppProtocol.fromText(entry.protocol());
    List<String> declaredHosts = entry.gatewayHosts() == null ? List.of() : entry.gatewayHosts();
    List<String> hosts = new ArrayList<>();
    for (int i = 0; i < declaredHosts.size(); i++) {
      try {
        hosts.add(GatewayHosts.parse(declaredHosts.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("gatewayHosts[" + i + "]: " + e.getMessage());
      }
    }
    Map<SubsetRole, List<Endpoint>> endpoints = new EnumMap<>(SubsetRole.class);
    Map<String, List<String>> declared = entry.endpoints() == null ? Map.of() : entry.endpoints();
    Set<Endpoint> seen = new HashSet<>();
    for (Map.Entry<String, List<String>> role : declared.entrySet()) {
      SubsetRole subsetRole = SubsetRole.fromLabel(role.getKey());
      List<String> addresses = role.getValue() == null ? List.of() : role.getValue();
      List<Endpoint> parsed = new ArrayList<>();
      for (int i = 0; i < addresses.size(); i++) {
        String where = "endpoints." + role.getKey() + "[" + i + "]";
        if (addresses.get(i) == null) {
          throw new IllegalArgumentException(where + ": empty address");
        }
        Endpoint endpoint;
        try {
          endpoint = Endpoint.parse(addresses.get(i).trim(), entry.port());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        if (!seen.add(endpoint)) {
          throw new IllegalArgumentException(where + ": " + endpoint
              + " is listed more than once; an endpoint belongs to one role");
        }
        parsed.add(endpoint);
      }
      endpoints.put(subsetRole, parsed);
    }
    return new AppSpec(new AppKey(namespace, entry.name()), entry.port(), protocol, hosts,
        endpoints);
  }
}
