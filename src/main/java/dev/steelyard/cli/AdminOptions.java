package dev.steelyard.cli;

import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the admin API is and the token for mutating calls; shared by the client commands. */
final class AdminOptions {

  @Option(names = "--admin", defaultValue = "${env:STEELYARD_ADMIN:-http://127.0.0.1:18080}",
      description = "Admin API base URL (env STEELYARD_ADMIN; default ${DEFAULT-VALUE}).")
  String url;

  @Option(names = "--token", defaultValue = "${env:STEELYARD_ADMIN_TOKEN}",
      description = "Admin token for changes (env STEELYARD_ADMIN_TOKEN).")
  String token;

  AdminClient client() {
    return new AdminClient(url, Optional.ofNullable(token).filter(value -> !value.isBlank()));
  }
}
