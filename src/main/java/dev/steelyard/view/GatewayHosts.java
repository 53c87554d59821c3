package dev.steelyard.view;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The rules for the host names an app answers to at the gateway, for every source: the syntax
 * (a DNS name, optionally {@code *.}-prefixed and with a port), lower case (Envoy compares
 * domains without case, so two spellings are one host), and one app per host (Envoy rejects a
 * route configuration in which two virtual hosts share a domain). What a source does about a
 * broken rule (refuse the file, leave the host out with a warning) is its own.
 */
public final class GatewayHosts {

  private static final Pattern HOST =
      Pattern.compile("(\\*\\.)?[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(:[0-9]{1,5})?");

  private GatewayHosts() {}

  /** {@code host} in lower case; an IllegalArgumentException if it is not a host name. */
  public static String parse(String host) {
    String lower = host == null ? null : host.strip().toLowerCase(Locale.ROOT);
    if (lower == null || !HOST.matcher(lower).matches()) {
      throw new IllegalArgumentException("'" + host + "' is not a host name");
    }
    return lower;
  }

  /** Who claimed which host, in the order the source decides (first claim wins). */
  public static final class Owners {
    private final Map<String, AppKey> owners = new HashMap<>();

    /** Gives {@code host} to {@code app}, or names the app that has it (in any case). */
    public Optional<AppKey> claim(String host, AppKey app) {
      AppKey owner = owners.putIfAbsent(host.toLowerCase(Locale.ROOT), app);
      return owner == null || owner.equals(app) ? Optional.empty() : Optional.of(owner);
    }
  }
}
