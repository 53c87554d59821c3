package dev.steelyard.xds;

import io.grpc.Context;

/**
 * Who is at the other end of an xDS stream, as {@link XdsAuthentication} established it, and
 * whether it reads what it is sent.
 *
 * @param authenticated whether the server checked a credential (false when none is configured)
 * @param method "token", "certificate" or "none"
 * @param identity what the credential names: the certificate's subject names, or "token"
 */
public record XdsPeer(boolean authenticated, String method, String identity) {

  static final XdsPeer ANONYMOUS = new XdsPeer(false, "none", "");
  static final Context.Key<XdsPeer> KEY = Context.key("steelyard.xds.peer");
  static final Context.Key<Reading> READING = Context.key("steelyard.xds.reading");

  /** Whether a stream's client reads its responses: false while one waits for it to. */
  @FunctionalInterface
  public interface Reading {
    Reading ALWAYS = () -> true;

    boolean reading();
  }

  /** The peer of the stream whose callback is running (anonymous outside one). */
  public static XdsPeer current() {
    XdsPeer peer = KEY.get();
    return peer == null ? ANONYMOUS : peer;
  }

  /** Whether the client of the stream whose callback is running reads its responses. */
  public static Reading currentReading() {
    Reading reading = READING.get();
    return reading == null ? Reading.ALWAYS : reading;
  }
}
