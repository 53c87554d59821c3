package dev.steelyard.source.kubernetes;

import dev.steelyard.source.AppCatalog;
import dev.steelyard.view.AppSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apps from the cluster: informers on Services and on pods carrying the app label, in all
 * namespaces or a list. Events only mark the catalog dirty and ask for a publish (which the
 * publisher debounces); {@link #apps()} rebuilds the specs from the informer caches when asked.
 *
 * <p>A pod event that changes nothing the mesh sees (labels, IP, readiness, container ports) is
 * dropped here, so status churn and the informer's relist after a lost watch do not wake the
 * publisher. While the API server is unreachable the caches keep their last state, and that is
 * what is served.
 */
public final class KubernetesAppCatalog implements AppCatalog {

  private static final Logger log = LoggerFactory.getLogger(KubernetesAppCatalog.class);

  /** What of a pod can change the mesh; equal facts mean the event can be ignored. */
  private record PodFacts(Map<String, String> labels, String ip, boolean serving,
      List<ContainerPort> ports) {

    static PodFacts of(Pod pod) {
      List<ContainerPort> ports = new ArrayList<>();
      if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
        for (Container container : pod.getSpec().getContainers()) {
          ports.addAll(Objects.requireNonNullElse(container.getPorts(), List.of()));
        }
      }
      return new PodFacts(Objects.requireNonNullElse(pod.getMetadata().getLabels(), Map.of()),
          pod.getStatus() == null ? null : pod.getStatus().getPodIP(),
          AppSpecBuilder.isServing(pod), ports);
    }
  }

  private final KubernetesSourceSettings settings;
  private final List<SharedIndexInformer<Pod>> podInformers = new ArrayList<>();
  private final List<SharedIndexInformer<Service>> serviceInformers = new ArrayList<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, PodFacts> podFacts = new ConcurrentHashMap<>();
  private volatile boolean dirty = true;
  private List<AppSpec> apps = List.of();
  private Set<String> lastWarnings = Set.of();

  private KubernetesAppCatalog(KubernetesSourceSettings settings) {
    this.settings = settings;
  }

  /**
   * Starts the informers and waits until each has listed once, so the first snapshot holds the
   * cluster's apps rather than an empty mesh.
   *
   * @throws IOException when the first list does not finish within {@code syncTimeout}
   */
  public static KubernetesAppCatalog start(KubernetesClient client,
      KubernetesSourceSettings settings, Duration syncTimeout) throws IOException {
    KubernetesAppCatalog catalog = new KubernetesAppCatalog(settings);
    List<String> scopes = settings.allNamespaces() ? List.of("") : settings.namespaces();
    List<CompletableFuture<Void>> started = new ArrayList<>();
    for (String namespace : scopes) {
      SharedIndexInformer<Pod> pods = (namespace.isEmpty()
          ? client.pods().inAnyNamespace().withLabel(settings.appLabel())
          : client.pods().inNamespace(namespace).withLabel(settings.appLabel()))
          .runnableInformer(0);
      pods.addEventHandler(catalog.podHandler());
      catalog.podInformers.add(pods);
      SharedIndexInformer<Service> services = (namespace.isEmpty()
          ? client.services().inAnyNamespace() : client.services().inNamespace(namespace))
          .runnableInformer(0);
      services.addEventHandler(catalog.serviceHandler());
      catalog.serviceInformers.add(services);
      started.add(pods.start().toCompletableFuture());
      started.add(services.start().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
          .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      catalog.close();
      throw new IOException("cannot list pods and Services in " + settings.describeNamespaces()
          + " within " + syncTimeout.toSeconds() + " s: " + rootMessage(e), e);
    }
    log.info("watching pods labelled {} and {} and their Services in {}", settings.appLabel(),
        settings.roleLabel(), settings.describeNamespaces());
    return catalog;
  }

  private ResourceEventHandler<Pod> podHandler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        podChanged(pod, () -> PodFacts.of(pod));
      }

      @Override
      public void onUpdate(Pod oldPod, Pod pod) {
        podChanged(pod, () -> PodFacts.of(pod));
      }

      @Override
      public void onDelete(Pod pod, boolean finalStateUnknown) {
        podChanged(pod, () -> null);
      }
    };
  }

  private void podChanged(Pod pod, Supplier<PodFacts> facts) {
    String key = uidOrName(pod);
    PodFacts next = facts.get();
    PodFacts previous = next == null ? podFacts.remove(key) : podFacts.put(key, next);
    if (!Objects.equals(previous, next)) {
      changed();
    }
  }

  private ResourceEventHandler<Service> serviceHandler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Service service) {
        changed();
      }

      @Override
      public void onUpdate(Service oldService, Service service) {
        if (!Objects.equals(oldService.getMetadata().getResourceVersion(),
            service.getMetadata().getResourceVersion())) {
          changed();
        }
      }

      @Override
      public void onDelete(Service service, boolean finalStateUnknown) {
        changed();
      }
    };
  }

  private void changed() {
    dirty = true;
    listeners.forEach(Runnable::run);
  }

  @Override
  public synchronized List<AppSpec> apps() {
    if (!dirty) {
      return apps;
    }
    // Cleared before reading, so an event during the rebuild marks the catalog dirty again.
    dirty = false;
    List<Service> services = new ArrayList<>();
    serviceInformers.forEach(informer -> services.addAll(informer.getStore().list()));
    List<Pod> pods = new ArrayList<>();
    podInformers.forEach(informer -> pods.addAll(informer.getStore().list()));
    Set<String> warnings = new HashSet<>();
    Map<dev.steelyard.view.AppKey, AppSpec> lastGood = new java.util.HashMap<>();
    apps.forEach(spec -> lastGood.put(spec.key(), spec));
    apps = List.copyOf(AppSpecBuilder.build(services, pods, settings, warnings::add, lastGood));
    warnings.stream().filter(w -> !lastWarnings.contains(w)).sorted().forEach(log::warn);
    lastWarnings = Set.copyOf(warnings);
    return apps;
  }

  @Override
  public String describe() {
    return "Kubernetes (" + settings.describeNamespaces() + ", labels " + settings.appLabel()
        + " and " + settings.roleLabel() + ")";
  }

  /** Set while a watch is down: the informer relists on its own, the last state is served. */
  @Override
  public Optional<String> lastError() {
    List<String> down = new ArrayList<>();
    podInformers.stream().filter(i -> !i.isWatching()).findAny().ifPresent(i -> down.add("pods"));
    serviceInformers.stream().filter(i -> !i.isWatching()).findAny()
        .ifPresent(i -> down.add("Services"));
    if (down.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("the watch on " + String.join(" and ", down)
        + " is down; serving the last known endpoints until it reconnects");
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {
    podInformers.forEach(SharedIndexInformer::close);
    serviceInformers.forEach(SharedIndexInformer::close);
  }

  private static String uidOrName(HasMetadata resource) {
    String uid = resource.getMetadata().getUid();
    return uid != null ? uid
        : resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName();
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }
}
