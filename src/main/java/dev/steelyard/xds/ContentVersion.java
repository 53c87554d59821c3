package dev.steelyard.xds;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SortedMap;

/**
 * Versions are content hashes: the first 16 hex digits of SHA-256. A resource's hash is over its
 * type and deterministic serialization; the version of a set of resources (a whole type, or the
 * names a request asks for) is over their names and resource hashes, so it is derived without
 * serializing anything again. Equal content has the same version on every replica and after
 * every restart, so a proxy that reconnects (to this or another replica) is served the versions
 * it already has.
 */
public final class ContentVersion {

  private ContentVersion() {}

  /** The content hash of one resource. */
  public static String of(Message resource) {
    MessageDigest digest = sha256();
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(resource.getSerializedSize() + 64);
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(buffer);
      out.useDeterministicSerialization();
      out.writeStringNoTag(resource.getDescriptorForType().getFullName());
      resource.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return HexFormat.of().formatHex(digest.digest(buffer.toByteArray()), 0, 8);
  }

  /** The version of a set of named resources, from their content hashes; order-independent. */
  public static String ofNamed(SortedMap<String, String> contentHashes) {
    MessageDigest digest = sha256();
    contentHashes.forEach((name, hash) -> {
      digest.update(name.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(hash.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    });
    return HexFormat.of().formatHex(digest.digest(), 0, 8);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }
}
