package dev.steelyard.rollout;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flows in {@code <data-dir>/rollouts.json}, next to {@code splits.json}: the running ones and
 * the last {@value #KEEP_ENDED} ended ones per app (their history stays readable). Written as
 * the split store writes: a temporary file, fsynced, renamed over the old one, directory synced.
 * The whole file is rewritten per saved flow, from each flow's JSON as encoded when it was
 * saved: a save encodes only the flow it saves. A rollback writes its flow before it acts, and
 * encoding every kept flow again (the ended ones with their histories) cost it CPU on 2 cores
 * while its push went out (bench/README.md, session 9).
 */
public final class FileFlowStore implements FlowStore {

  public static final String FILE_NAME = "rollouts.json";
  static final int KEEP_ENDED = 20;

  /** The file's content. */
  public record Stored(List<Flow> flows) {
    public Stored {
      flows = flows == null ? List.of() : List.copyOf(flows);
    }
  }

  private static final byte[] OPEN = "{\n  \"flows\" : [ ".getBytes(StandardCharsets.UTF_8);
  private static final byte[] BETWEEN = ", ".getBytes(StandardCharsets.UTF_8);
  private static final byte[] CLOSE = " ]\n}\n".getBytes(StandardCharsets.UTF_8);

  private final Path file;
  /** The flows as last loaded or saved: a save replaces one of them and writes them all. */
  private List<Flow> known;
  /** The JSON of each flow in {@link #known}, by instance (flows are immutable). */
  private Map<Flow, byte[]> encoded = new IdentityHashMap<>();

  private FileFlowStore(Path file) {
    this.file = file;
  }

  public static FileFlowStore open(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    return new FileFlowStore(dataDir.resolve(FILE_NAME));
  }

  public Path file() {
    return file;
  }

  @Override
  public String describe() {
    return file.toString();
  }

  @Override
  public synchronized List<Flow> load() throws IOException {
    if (!Files.exists(file)) {
      known = List.of();
      return known;
    }
    try {
      known = JSON.readValue(file.toFile(), Stored.class).flows();
      return known;
    } catch (IOException e) {
      throw new IOException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void save(Flow flow) throws IOException {
    List<Flow> next = new ArrayList<>(known == null ? load() : known);
    boolean replaced = false;
    for (int i = 0; i < next.size(); i++) {
      if (next.get(i).id().equals(flow.id())) {
        next.set(i, flow);
        replaced = true;
      }
    }
    if (!replaced) {
      next.add(flow);
    }
    write(next);
  }

  /** Stores {@code flows}, keeping only the newest ended flows of each app. */
  private void write(List<Flow> flows) throws IOException {
    List<Flow> kept = new ArrayList<>();
    java.util.Map<dev.steelyard.view.AppKey, Integer> ended = new java.util.HashMap<>();
    for (int i = flows.size() - 1; i >= 0; i--) {
      Flow flow = flows.get(i);
      if (flow.active() || ended.merge(flow.app(), 1, Integer::sum) <= KEEP_ENDED) {
        kept.add(0, flow);
      }
    }
    // The document Stored would encode to ({"flows": [...]}), put together from each flow's own.
    // Written as the pieces are (a gathering write), not copied into one array first.
    Map<Flow, byte[]> next = new IdentityHashMap<>();
    List<ByteBuffer> pieces = new ArrayList<>(2 * kept.size() + 2);
    pieces.add(ByteBuffer.wrap(OPEN));
    for (int i = 0; i < kept.size(); i++) {
      Flow flow = kept.get(i);
      byte[] json = encoded.get(flow);
      if (json == null) {
        json = JSON.writeValueAsBytes(flow);
      }
      next.put(flow, json);
      if (i > 0) {
        pieces.add(ByteBuffer.wrap(BETWEEN));
      }
      pieces.add(ByteBuffer.wrap(json));
    }
    pieces.add(ByteBuffer.wrap(CLOSE));
    ByteBuffer[] buffers = pieces.toArray(ByteBuffer[]::new);
    ByteBuffer last = buffers[buffers.length - 1];
    Path temp = file.resolveSibling(FILE_NAME + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (last.hasRemaining()) {
        channel.write(buffers);
      }
      channel.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel directory = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      directory.force(true);
    }
    known = List.copyOf(kept);
    encoded = next;
  }

  /** {@code type} written as its {@code toString()} and read back with {@code parse}. */
  private static <T> void asIsoString(SimpleModule module, Class<T> type,
      java.util.function.Function<String, T> parse, String expected) {
    module.addSerializer(type, new JsonSerializer<T>() {
      @Override
      public void serialize(T value, JsonGenerator gen, SerializerProvider provider)
          throws IOException {
        gen.writeString(value.toString());
      }
    });
    module.addDeserializer(type, new JsonDeserializer<T>() {
      @Override
      public T deserialize(JsonParser parser, DeserializationContext context)
          throws IOException {
        String text = parser.getValueAsString();
        try {
          return parse.apply(text);
        } catch (java.time.format.DateTimeParseException e) {
          throw new com.fasterxml.jackson.databind.exc.InvalidFormatException(parser,
              "'" + text + "' is not " + expected, text, type);
        }
      }
    });
  }

  /** Jackson with Instant and Duration as ISO-8601 strings. */
  static ObjectMapper mapper() {
    SimpleModule time = new SimpleModule("steelyard-time");
    asIsoString(time, Instant.class, Instant::parse, "an ISO-8601 instant such as "
        + "2026-12-01T12:00:00Z");
    asIsoString(time, Duration.class, Duration::parse, "an ISO-8601 duration such as PT30S");
    return new ObjectMapper()
        .registerModule(time)
        .registerModule(JudgeConfigJson.module())
        .enable(SerializationFeature.INDENT_OUTPUT)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }
}
