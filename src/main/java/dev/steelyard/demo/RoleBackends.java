package dev.steelyard.demo;

import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The demo's backends: a {@link RoleBackend} on every loopback endpoint of the apps. */
public final class RoleBackends implements AutoCloseable {

  private final List<RoleBackend> backends = new ArrayList<>();

  /** Starts a backend on every loopback endpoint of the given apps. */
  public static RoleBackends forLoopbackEndpoints(List<AppSpec> apps) throws IOException {
    RoleBackends started = new RoleBackends();
    try {
      for (AppSpec app : apps) {
        for (SubsetRole role : SubsetRole.values()) {
          for (Endpoint endpoint : app.endpoints(role)) {
            if (endpoint.ip().startsWith("127.")) {
              started.backends.add(
                  RoleBackend.start(app.key().name(), role, endpoint.ip(), endpoint.port()));
            }
          }
        }
      }
    } catch (IOException e) {
      started.close();
      throw new IOException("cannot start demo backends: " + e.getMessage(), e);
    }
    return started;
  }

  public int size() {
    return backends.size();
  }

  @Override
  public void close() {
    backends.forEach(RoleBackend::close);
  }
}
