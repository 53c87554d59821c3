package dev.steelyard.source.kubernetes;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.GatewayHosts;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Turns Services and pods, as the informers hold them, into {@link AppSpec}s. Pure, so the rules
 * (which Service is an app, which pod is an endpoint, which port) are tested without a cluster.
 *
 * <p>An app is a Service whose selector names the app label and that either selects a pod with
 * the role label (ready or not) or carries a {@code steelyard.dev/} annotation; other Services
 * that happen to select on the app label stay out of the mesh. Its endpoints are the pods of the
 * same namespace that match the whole selector, carry a known role label, are Ready, are not
 * terminating and have an IP. The port is the Service's target port: numeric as is, named looked
 * up in the pod's containers (pods without that port name are skipped, as Kubernetes does).
 */
public final class AppSpecBuilder {

  private AppSpecBuilder() {}


  public static List<AppSpec> build(Collection<Service> services, Collection<Pod> pods,
      KubernetesSourceSettings settings, Consumer<String> warnings) {
    return build(services, pods, settings, warnings, Map.of());
  }

  /**
   * Like {@link #build(Collection, Collection, KubernetesSourceSettings, Consumer)}; a Service
   * that cannot be read (a mistyped annotation, say) keeps its spec from {@code lastGood} rather
   * than dropping out of the mesh.
   */
  public static List<AppSpec> build(Collection<Service> services, Collection<Pod> pods,
      KubernetesSourceSettings settings, Consumer<String> warnings,
      Map<AppKey, AppSpec> lastGood) {
    Map<String, List<Pod>> podsByNamespace = new HashMap<>();
    for (Pod pod : pods) {
      podsByNamespace.computeIfAbsent(pod.getMetadata().getNamespace(), ns -> new ArrayList<>())
          .add(pod);
    }
    List<AppSpec> specs = new ArrayList<>();
    for (Service service : services) {
      Map<String, String> selector = service.getSpec() == null ? null
          : service.getSpec().getSelector();
      if (selector == null || !selector.containsKey(settings.appLabel())) {
        continue;
      }
      String where = "Service " + service.getMetadata().getNamespace() + "/"
          + service.getMetadata().getName();
      try {
        toSpec(service, selector,
            podsByNamespace.getOrDefault(service.getMetadata().getNamespace(), List.of()),
            settings, warnings).ifPresent(specs::add);
      } catch (IllegalArgumentException e) {
        AppSpec previous = lastGood.get(new AppKey(service.getMetadata().getNamespace(),
            service.getMetadata().getName()));
        if (previous != null) {
          specs.add(previous);
          warnings.accept(where + ": " + e.getMessage() + "; serving its last good spec");
        } else {
          warnings.accept(where + ": " + e.getMessage() + "; the app is left out");
        }
      }
    }
    return withUniqueGatewayHosts(specs, warnings);
  }

  /** A gateway host claimed by two apps goes to the first by key; Envoy rejects duplicates. */
  private static List<AppSpec> withUniqueGatewayHosts(List<AppSpec> specs,
      Consumer<String> warnings) {
    specs.sort(Comparator.comparing(AppSpec::key));
    GatewayHosts.Owners owners = new GatewayHosts.Owners();
    List<AppSpec> unique = new ArrayList<>();
    for (AppSpec spec : specs) {
      List<String> hosts = new ArrayList<>();
      for (String host : spec.gatewayHosts()) {
        Optional<AppKey> owner = owners.claim(host, spec.key());
        if (owner.isEmpty()) {
          hosts.add(host);
        } else {
          warnings.accept("Service " + spec.key() + ": gateway host " + host
              + " already belongs to " + owner.get() + "; left out");
        }
      }
      unique.add(hosts.size() == spec.gatewayHosts().size() ? spec
          : new AppSpec(spec.key(), spec.port(), spec.protocol(), hosts, spec.endpoints()));
    }
    return unique;
  }

  private static Optional<AppSpec> toSpec(Service service, Map<String, String> selector,
      List<Pod> pods, KubernetesSourceSettings settings, Consumer<String> warnings) {
    boolean optedIn = annotations(service).keySet().stream()
        .anyMatch(key -> key.startsWith("steelyard.dev/"));
    Map<SubsetRole, List<Endpoint>> endpoints = new EnumMap<>(SubsetRole.class);
    List<Pod> withRole = new ArrayList<>();
    for (Pod pod : pods) {
      Map<String, String> labels = labels(pod);
      if (labels.containsKey(settings.roleLabel()) && selector.entrySet().stream()
          .allMatch(entry -> entry.getValue().equals(labels.get(entry.getKey())))) {
        withRole.add(pod);
      }
    }
    if (withRole.isEmpty() && !optedIn) {
      return Optional.empty();
    }
    ServicePort port = chosenPort(service);
    for (Pod pod : withRole) {
      String roleLabel = labels(pod).get(settings.roleLabel());
      if (!isServing(pod)) {
        continue;
      }
      SubsetRole role;
      try {
        role = SubsetRole.fromLabel(roleLabel);
      } catch (IllegalArgumentException e) {
        warnings.accept("pod " + pod.getMetadata().getNamespace() + "/"
            + pod.getMetadata().getName() + ": " + e.getMessage());
        continue;
      }
      Optional<Integer> targetPort = targetPort(port, pod);
      if (targetPort.isEmpty()) {
        warnings.accept("pod " + pod.getMetadata().getNamespace() + "/"
            + pod.getMetadata().getName() + " has no container port named '"
            + port.getTargetPort().getStrVal() + "'");
        continue;
      }
      endpoints.computeIfAbsent(role, r -> new ArrayList<>())
          .add(new Endpoint(pod.getStatus().getPodIP(), targetPort.get()));
    }
    AppKey key = new AppKey(service.getMetadata().getNamespace(),
        service.getMetadata().getName());
    return Optional.of(
        new AppSpec(key, port.getPort(), protocol(port), gatewayHosts(service), endpoints));
  }

  /** Ready, not being deleted, and with an IP: a pod that can take traffic now. */
  public static boolean isServing(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null) {
      return false;
    }
    String ip = pod.getStatus().getPodIP();
    if (ip == null || ip.isEmpty()) {
      return false;
    }
    List<PodCondition> conditions = pod.getStatus().getConditions();
    return conditions != null && conditions.stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static ServicePort chosenPort(Service service) {
    List<ServicePort> ports = service.getSpec().getPorts();
    if (ports == null || ports.isEmpty()) {
      throw new IllegalArgumentException("has no ports");
    }
    String wanted = annotations(service).get(KubernetesSourceSettings.PORT_ANNOTATION);
    if (wanted == null) {
      return ports.get(0);
    }
    return ports.stream()
        .filter(p -> wanted.equals(p.getName()) || wanted.equals(String.valueOf(p.getPort())))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(KubernetesSourceSettings.PORT_ANNOTATION
            + " names port '" + wanted + "', which the Service does not have"));
  }

  static Optional<Integer> targetPort(ServicePort port, Pod pod) {
    IntOrString target = port.getTargetPort();
    if (target == null || (target.getIntVal() == null && target.getStrVal() == null)) {
      return Optional.of(port.getPort());
    }
    if (target.getIntVal() != null) {
      return Optional.of(target.getIntVal());
    }
    String name = target.getStrVal();
    if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
      return Optional.of(Integer.parseInt(name));
    }
    List<Container> containers = pod.getSpec() == null ? List.of()
        : Objects.requireNonNullElse(pod.getSpec().getContainers(), List.of());
    return containers.stream()
        .flatMap(c -> Objects.requireNonNullElse(c.getPorts(), List.<ContainerPort>of()).stream())
        .filter(p -> name.equals(p.getName()))
        .map(ContainerPort::getContainerPort)
        .findFirst();
  }

  /** appProtocol wins; else a port named grpc, grpc-*, http2 or h2c means gRPC (HTTP/2). */
  static AppProtocol protocol(ServicePort port) {
    String declared = port.getAppProtocol();
    if (declared != null) {
      String lower = declared.toLowerCase(Locale.ROOT);
      if (lower.equals("grpc") || lower.equals("http2") || lower.equals("kubernetes.io/h2c")) {
        return AppProtocol.GRPC;
      }
      return AppProtocol.HTTP;
    }
    String name = port.getName() == null ? "" : port.getName().toLowerCase(Locale.ROOT);
    return name.equals("grpc") || name.startsWith("grpc-") || name.equals("http2")
        || name.equals("h2c") ? AppProtocol.GRPC : AppProtocol.HTTP;
  }

  /** Host names from the annotation ({@link GatewayHosts}); a bad one is an error. */
  static List<String> gatewayHosts(Service service) {
    String hosts = annotations(service).get(KubernetesSourceSettings.GATEWAY_HOSTS_ANNOTATION);
    if (hosts == null) {
      return List.of();
    }
    List<String> parsed = new ArrayList<>();
    for (String host : hosts.split(",")) {
      if (host.isBlank()) {
        continue;
      }
      try {
        parsed.add(GatewayHosts.parse(host));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(KubernetesSourceSettings.GATEWAY_HOSTS_ANNOTATION
            + ": " + e.getMessage());
      }
    }
    return parsed;
  }

  private static Map<String, String> labels(Pod pod) {
    return Objects.requireNonNullElse(pod.getMetadata().getLabels(), Map.of());
  }

  private static Map<String, String> annotations(Service service) {
    return Objects.requireNonNullElse(service.getMetadata().getAnnotations(), Map.of());
  }
}
