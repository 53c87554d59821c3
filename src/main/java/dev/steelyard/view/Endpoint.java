package dev.steelyard.view;

import com.google.common.net.InetAddresses;

/** One ready endpoint: an IP literal and a port. */
public record Endpoint(String ip, int port) implements Comparable<Endpoint> {

  public Endpoint {
    if (!InetAddresses.isInetAddress(ip)) {
      throw new IllegalArgumentException("'" + ip + "' is not an IP address");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range 1..65535");
    }
  }

  /** Parses {@code ip:port}, {@code [v6]:port}, or a bare IP that takes {@code defaultPort}. */
  public static Endpoint parse(String text, int defaultPort) {
    String host = text;
    int port = defaultPort;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("'" + text + "' has no closing ']'");
      }
      host = text.substring(1, close);
      if (close + 1 < text.length()) {
        port = parsePort(text, text.substring(close + 1));
      }
    } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
      host = text.substring(0, text.indexOf(':'));
      port = parsePort(text, text.substring(text.indexOf(':')));
    }
    try {
      return new Endpoint(host, port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoint '" + text + "': " + e.getMessage());
    }
  }

  private static int parsePort(String text, String colonAndPort) {
    if (!colonAndPort.startsWith(":") || colonAndPort.length() == 1) {
      throw new IllegalArgumentException("endpoint '" + text + "' is not ip:port");
    }
    try {
      return Integer.parseInt(colonAndPort.substring(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("endpoint '" + text + "' has a non-numeric port");
    }
  }

  @Override
  public int compareTo(Endpoint other) {
    int byIp = ip.compareTo(other.ip);
    return byIp != 0 ? byIp : Integer.compare(port, other.port);
  }

  @Override
  public String toString() {
    return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + port : ip + ":" + port;
  }
}
