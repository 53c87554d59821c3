package dev.steelyard.rollout;

import dev.steelyard.source.AppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File mode: Steelyard cannot start processes for the user, so each change runs the workload
 * hook ({@code --workload-hook CMD}) as {@code sh -c 'CMD "$@"' hook APP ROLE VERSION REPLICAS}
 * (APP is namespace/name), logs its output, and then waits until the apps file lists that many
 * ready endpoints for the role. Without a hook it only waits, and says what for. The apps file
 * carries no versions, so readiness here is a count of ready endpoints (after health checks);
 * a hook should exit only once the role runs the version it was given (a role whose hook still
 * runs is not ready).
 */
public final class HookWorkloads implements WorkloadDriver {

  private static final Logger log = LoggerFactory.getLogger(HookWorkloads.class);

  private final AppCatalog catalog;
  private final Optional<String> hook;
  /** Roles whose hook has not exited yet: not ready, whatever the apps file says. */
  private final java.util.Set<String> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final ExecutorService runner = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "steelyard-workload-hook");
    thread.setDaemon(true);
    return thread;
  });

  public HookWorkloads(AppCatalog catalog, Optional<String> hook) {
    this.catalog = catalog;
    this.hook = hook;
  }

  @Override
  public FlowMachine.MainWorkload main(AppKey app) throws FlowException {
    return new FlowMachine.MainWorkload("", count(app, SubsetRole.MAIN));
  }

  @Override
  public void apply(Flow flow, SubsetRole role, RoleTarget target) {
    String what = flow.app() + " " + role.label() + " " + target.version() + " "
        + target.replicas();
    if (hook.isEmpty()) {
      log.info("flow {}: waiting for the apps file to list {} ready endpoint(s) for {} of {} "
          + "(version {}); no --workload-hook is set, so change the workload and the file "
          + "yourself", flow.id(), target.replicas(), role.label(), flow.app(), target.version());
      return;
    }
    String key = flow.app() + " " + role.label();
    pending.add(key);
    runner.execute(() -> {
      try {
        run(flow.id(), what, List.of(flow.app().toString(), role.label(), target.version(),
            String.valueOf(target.replicas())));
      } finally {
        pending.remove(key);
      }
    });
  }

  private void run(String flowId, String what, List<String> args) {
    List<String> command = new java.util.ArrayList<>(List.of("sh", "-c", hook.get() + " \"$@\"",
        "workload-hook"));
    command.addAll(args);
    log.info("flow {}: running the workload hook: {} {}", flowId, hook.get(), what);
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          log.info("workload hook [{}]: {}", what, line);
        }
      }
      if (!process.waitFor(10, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        log.warn("flow {}: the workload hook ({}) ran over 10 minutes and was killed", flowId,
            what);
      } else if (process.exitValue() != 0) {
        log.warn("flow {}: the workload hook ({}) exited with {}; the flow waits for the apps "
            + "file all the same", flowId, what, process.exitValue());
      }
    } catch (java.io.IOException e) {
      log.warn("flow {}: cannot run the workload hook ({}): {}", flowId, what, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public RoleStatus status(AppKey app, SubsetRole role) {
    int listed = count(app, role);
    return new RoleStatus("", listed, pending.contains(app + " " + role.label()) ? 0 : listed);
  }

  private int count(AppKey app, SubsetRole role) {
    return catalog.apps().stream().filter(spec -> spec.key().equals(app)).findFirst()
        .map(spec -> spec.endpoints(role).size()).orElse(0);
  }

  @Override
  public String describe() {
    return hook.map(cmd -> "workload hook " + cmd + ", then the apps file")
        .orElse("the apps file (no workload hook: changes are up to you)");
  }

  @Override
  public void close() {
    runner.shutdownNow();
  }
}
