package dev.steelyard.source;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the apps YAML file. Every error names where it is ({@code apps[1] default/web:
 * endpoints.canary[0]: ...}); one bad entry rejects the whole file, so a typo never removes an
 * app's endpoints from the mesh.
 */
public final class AppFileParser {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern HOST =
      Pattern.compile("(\\*\\.)?[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?");
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
      @JsonProperty("endpoints") Map<String, List<String>> endpoints) {}

  public static List<AppSpec> parse(String yaml) throws InvalidAppFileException {
    if (yaml.isBlank()) {
      throw new InvalidAppFileException("the file is empty; expected an 'apps' list");
    }
    AppsFile file;
    try {
      file = YAML.readValue(yaml, AppsFile.class);
    } catch (JsonProcessingException e) {
      throw new InvalidAppFileException("malformed YAML: " + e.getOriginalMessage()
          + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr() + ")" : ""));
    }
    if (file == null || file.apps() == null) {
      throw new InvalidAppFileException("the file has no 'apps' list");
    }
    List<AppSpec> specs = new ArrayList<>();
    Set<AppKey> seenApps = new HashSet<>();
    Map<String, AppKey> gatewayHostOwners = new HashMap<>();
    for (int i = 0; i < file.apps().size(); i++) {
      AppEntry entry = file.apps().get(i);
      String where = "apps[" + i + "]";
      if (entry == null) {
        throw new InvalidAppFileException(where + ": empty entry");
      }
      AppSpec spec;
      try {
        spec = toSpec(entry);
      } catch (IllegalArgumentException e) {
        String name = entry.name() == null ? "" : " "
            + (entry.namespace() == null ? "default" : entry.namespace()) + "/" + entry.name();
        throw new InvalidAppFileException(where + name + ": " + e.getMessage());
      }
      if (!seenApps.add(spec.key())) {
        throw new InvalidAppFileException(where + " " + spec.key() + ": declared twice");
      }
      for (String host : spec.gatewayHosts()) {
        AppKey owner = gatewayHostOwners.putIfAbsent(host.toLowerCase(), spec.key());
        if (owner != null) {
          throw new InvalidAppFileException(where + " " + spec.key() + ": gateway host '" + host
              + "' is already used by " + owner);
        }
      }
      specs.add(spec);
    }
    return List.copyOf(specs);
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
    List<String> hosts = entry.gatewayHosts() == null ? List.of() : entry.gatewayHosts();
    for (int i = 0; i < hosts.size(); i++) {
      String host = hosts.get(i);
      if (host == null || !HOST.matcher(host).matches()) {
        throw new IllegalArgumentException("gatewayHosts[" + i + "]: '" + host
            + "' is not a host name");
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
