package dev.steelyard.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes a response once for all the streams it goes to. A push sends the same version of
 * the same resources to every proxy of a group; only the nonce differs per stream. Encoded
 * one by one, the publisher thread spent about a third of a 50-app weight push copying the
 * same bytes (a JFR profile of the fan-out benchmark). Here the response without its nonce
 * is encoded once and each stream's message is those bytes followed by its nonce field
 * (protobuf parsers accept fields in any order).
 *
 * <p>Two responses count as the same when they carry the same type, version and the very
 * same {@link Any} instances in the same order: {@link PackOnce} packs each resource once, so
 * a response made for another stream from the same snapshot holds the same instances.
 * Anything else (a response with other fields set) is encoded as usual.
 */
final class ResponseBytes implements MethodDescriptor.Marshaller<DiscoveryResponse> {

  /** What the encodings kept may occupy: a few pushes' worth at 1,000 apps. */
  static final long MAX_BYTES = 64L << 20;
  static final int MAX_ENTRIES = 4096;

  private static final int NONCE_TAG = (DiscoveryResponse.NONCE_FIELD_NUMBER << 3) | 2;

  private record Key(String typeUrl, String version, int count, int identities) {}

  private record Encoded(Any[] resources, byte[] body) {
    boolean holds(List<Any> others) {
      if (others.size() != resources.length) {
        return false;
      }
      for (int i = 0; i < resources.length; i++) {
        if (others.get(i) != resources[i]) {
          return false;
        }
      }
      return true;
    }
  }

  private final MethodDescriptor.Marshaller<DiscoveryResponse> proto;
  /** Least recently used first. Guarded by this. */
  private final LinkedHashMap<Key, Encoded> kept = new LinkedHashMap<>(64, 0.75f, true);
  private long keptBytes;
  private final Counter reused;
  private final Counter encoded;

  ResponseBytes(MethodDescriptor.Marshaller<DiscoveryResponse> proto, MeterRegistry meters) {
    this.proto = proto;
    String name = "steelyard_xds_response_encodings_total";
    String help = "xDS responses by whether their resources were encoded for this stream or "
        + "reused from another stream's response";
    this.reused = Counter.builder(name).description(help).tag("result", "reused")
        .register(meters);
    this.encoded = Counter.builder(name).description(help).tag("result", "encoded")
        .register(meters);
  }

  /** {@code service} with its state-of-the-world responses encoded by a shared instance. */
  static ServerServiceDefinition sharing(ServerServiceDefinition service, MeterRegistry meters) {
    ServerServiceDefinition.Builder shared = ServerServiceDefinition.builder(
        service.getServiceDescriptor().getName());
    ResponseBytes bytes = null;
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      if (method.getMethodDescriptor().getResponseMarshaller()
          instanceof MethodDescriptor.PrototypeMarshaller<?> prototype
          && prototype.getMessagePrototype() instanceof DiscoveryResponse) {
        if (bytes == null) {
          bytes = new ResponseBytes(responses(method), meters);
        }
        shared.addMethod(withResponses(method, bytes));
      } else {
        shared.addMethod(method);
      }
    }
    return shared.build();
  }

  @SuppressWarnings("unchecked")
  private static MethodDescriptor.Marshaller<DiscoveryResponse> responses(
      ServerMethodDefinition<?, ?> method) {
    return (MethodDescriptor.Marshaller<DiscoveryResponse>)
        method.getMethodDescriptor().getResponseMarshaller();
  }

  @SuppressWarnings("unchecked")
  private static <ReqT> ServerMethodDefinition<ReqT, DiscoveryResponse> withResponses(
      ServerMethodDefinition<ReqT, ?> method, ResponseBytes bytes) {
    ServerMethodDefinition<ReqT, DiscoveryResponse> typed =
        (ServerMethodDefinition<ReqT, DiscoveryResponse>) method;
    MethodDescriptor<ReqT, DiscoveryResponse> descriptor = typed.getMethodDescriptor();
    return ServerMethodDefinition.create(
        descriptor.toBuilder(descriptor.getRequestMarshaller(), bytes).build(),
        typed.getServerCallHandler());
  }

  @Override
  public InputStream stream(DiscoveryResponse response) {
    if (response.hasControlPlane() || !response.getUnknownFields().asMap().isEmpty()
        || response.getResourcesCount() == 0) {
      return proto.stream(response);
    }
    return new Message(body(response), nonceField(response.getNonceBytes()));
  }

  @Override
  public DiscoveryResponse parse(InputStream stream) {
    return proto.parse(stream);
  }

  /** The response's bytes without the nonce, encoded here or by an earlier stream. */
  private byte[] body(DiscoveryResponse response) {
    List<Any> resources = response.getResourcesList();
    int identities = 1;
    for (Any resource : resources) {
      identities = 31 * identities + System.identityHashCode(resource);
    }
    Key key = new Key(response.getTypeUrl(), response.getVersionInfo(), resources.size(),
        identities);
    synchronized (this) {
      Encoded known = kept.get(key);
      if (known != null && known.holds(resources)) {
        reused.increment();
        return known.body();
      }
    }
    // Encoded outside the lock: two streams may both encode a new response; one is kept.
    byte[] body = response.toBuilder().clearNonce().build().toByteArray();
    encoded.increment();
    if (body.length <= MAX_BYTES / 4) {
      keep(key, new Encoded(resources.toArray(new Any[0]), body));
    }
    return body;
  }

  private synchronized void keep(Key key, Encoded encoding) {
    Encoded replaced = kept.put(key, encoding);
    keptBytes += encoding.body().length - (replaced == null ? 0 : replaced.body().length);
    Iterator<Map.Entry<Key, Encoded>> oldest = kept.entrySet().iterator();
    while ((keptBytes > MAX_BYTES || kept.size() > MAX_ENTRIES) && oldest.hasNext()) {
      Encoded dropped = oldest.next().getValue();
      oldest.remove();
      keptBytes -= dropped.body().length;
    }
  }

  private static byte[] nonceField(ByteString nonce) {
    if (nonce.isEmpty()) {
      return new byte[0];
    }
    byte[] field = new byte[CodedOutputStream.computeBytesSize(
        DiscoveryResponse.NONCE_FIELD_NUMBER, nonce)];
    CodedOutputStream out = CodedOutputStream.newInstance(field);
    try {
      out.writeUInt32NoTag(NONCE_TAG);
      out.writeBytesNoTag(nonce);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return field;
  }

  /**
   * A shared body and a stream's own nonce, written straight to the transport. It supports
   * mark and reset because the byte-stream service wrapper in front of ours
   * ({@code ServerInterceptors.useInputStreamMessages}) wraps any stream that does not in a
   * buffered copy, which hides {@link Drainable}: each message was then copied through an 8 KB
   * buffer (41 of the publisher's 460 samples in the rollback profile).
   */
  private static final class Message extends InputStream implements KnownLength, Drainable {
    private final byte[] body;
    private final byte[] nonce;
    private int position;
    private int marked;

    Message(byte[] body, byte[] nonce) {
      this.body = body;
      this.nonce = nonce;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int written = available();
      if (position < body.length) {
        target.write(body, position, body.length - position);
        target.write(nonce);
      } else {
        target.write(nonce, position - body.length, written);
      }
      position = body.length + nonce.length;
      return written;
    }

    @Override
    public int available() {
      return body.length + nonce.length - position;
    }

    @Override
    public boolean markSupported() {
      return true;
    }

    @Override
    public void mark(int readLimit) {
      marked = position;
    }

    @Override
    public void reset() {
      position = marked;
    }

    @Override
    public int read() {
      if (position < body.length) {
        return body[position++] & 0xff;
      }
      if (position < body.length + nonce.length) {
        return nonce[position++ - body.length] & 0xff;
      }
      return -1;
    }

    @Override
    public int read(byte[] target, int offset, int length) {
      int left = available();
      if (length == 0) {
        return 0;
      }
      if (left == 0) {
        return -1;
      }
      int done = 0;
      while (done < length && position < body.length + nonce.length) {
        boolean inBody = position < body.length;
        byte[] part = inBody ? body : nonce;
        int at = inBody ? position : position - body.length;
        int n = Math.min(length - done, part.length - at);
        System.arraycopy(part, at, target, offset + done, n);
        done += n;
        position += n;
      }
      return done;
    }
  }
}
