package dev.steelyard.bench;

import dev.steelyard.source.AppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The benchmark fleet: {@code apps} apps {@code bench/app-i}, each with main, baseline and canary
 * subsets of {@code endpoints} endpoints. Mutable, so endpoint churn can be driven like a source.
 */
public final class Fleet implements AppCatalog {

  public static final String NAMESPACE = "bench";

  private final int endpoints;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile List<AppSpec> apps;

  public Fleet(int appCount, int endpoints) {
    this.endpoints = endpoints;
    List<AppSpec> specs = new ArrayList<>();
    for (int i = 0; i < appCount; i++) {
      specs.add(spec(i, 0));
    }
    apps = List.copyOf(specs);
  }

  public static AppKey key(int app) {
    return new AppKey(NAMESPACE, "app-" + app);
  }

  /** The IP that churn generation {@code gen} gives the first canary pod: unique per gen. */
  public static String churnIp(int gen) {
    return "10.250." + ((gen >> 8) & 0xff) + "." + (gen & 0xff);
  }

  private AppSpec spec(int app, int churnGen) {
    Map<SubsetRole, List<Endpoint>> byRole = new EnumMap<>(SubsetRole.class);
    int r = 0;
    for (SubsetRole role : SubsetRole.values()) {
      List<Endpoint> list = new ArrayList<>();
      for (int e = 0; e < endpoints; e++) {
        String ip = "10." + (app / 250 + 1) + "." + (app % 250) + "." + (r * 64 + e + 1);
        if (churnGen > 0 && role == SubsetRole.CANARY && e == 0) {
          ip = churnIp(churnGen);
        }
        list.add(new Endpoint(ip, 8080));
      }
      byRole.put(role, list);
      r++;
    }
    return new AppSpec(key(app), 8080, AppProtocol.GRPC, List.of("app-" + app + ".example.com"),
        byRole);
  }

  /** One pod of one app changes: the first canary endpoint gets {@link #churnIp}(gen). */
  public void churn(int app, int gen) {
    List<AppSpec> next = new ArrayList<>(apps);
    next.set(app, spec(app, gen));
    apps = List.copyOf(next);
    listeners.forEach(Runnable::run);
  }

  public int endpointsPerSubset() {
    return endpoints;
  }

  public int size() {
    return apps.size();
  }

  @Override
  public List<AppSpec> apps() {
    return apps;
  }

  @Override
  public String describe() {
    return "benchmark fleet of " + apps.size() + " apps";
  }

  @Override
  public Optional<String> lastError() {
    return Optional.empty();
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {}
}
