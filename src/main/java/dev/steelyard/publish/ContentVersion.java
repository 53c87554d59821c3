package dev.steelyard.publish;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Versions are content hashes: the first 16 hex digits of SHA-256 over the deterministic
 * serialization of a resource list. Equal content has the same version on every replica and
 * after every restart, so a proxy that reconnects (to this or another replica) is served the
 * versions it already has.
 */
public final class ContentVersion {

  private ContentVersion() {}

  public static String of(List<? extends Message> resources) {
    MessageDigest digest = sha256();
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(buffer);
      out.useDeterministicSerialization();
      for (Message resource : resources) {
        out.writeStringNoTag(resource.getDescriptorForType().getFullName());
        out.writeUInt32NoTag(resource.getSerializedSize());
        resource.writeTo(out);
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return HexFormat.of().formatHex(digest.digest(buffer.toByteArray()), 0, 8);
  }

  /** The version of a set of named resources, from their content hashes; order-independent. */
  public static String ofNamed(java.util.SortedMap<String, String> contentHashes) {
    MessageDigest digest = sha256();
    contentHashes.forEach((name, hash) -> {
      digest.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(hash.getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
