package dev.steelyard.admin;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * Request bodies of the mutating calls, read strictly before protobuf's JSON mapping sees them.
 * protobuf-java's parser (Gson underneath) takes duplicate keys (the last wins), ignores what
 * follows the first value, accepts single quotes and unquoted names, and reads numbers into
 * doubles, so {@code 4.999999999999999999999} arrived as 5. Here a body is exactly one JSON
 * object by RFC 8259 with unique keys, and numbers stay exact ({@link BigDecimal}) for the
 * callers that must not round them.
 */
public final class StrictJson {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      // These are Jackson's defaults too; stated so a changed default cannot loosen the API.
      .disable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
      .disable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES)
      .disable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
      .disable(JsonReadFeature.ALLOW_TRAILING_COMMA)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .disable(JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS)
      .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
      .build();

  private StrictJson() {}

  /** The body as one JSON object; 400 for anything else. */
  public static ObjectNode object(String body, String example) {
    if (body == null || body.isBlank()) {
      throw new ApiException(400, "request body is empty; expected JSON such as " + example);
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(body);
    } catch (JacksonException e) {
      throw new ApiException(400, "malformed request: " + e.getOriginalMessage());
    }
    if (!(tree instanceof ObjectNode object)) {
      throw new ApiException(400, "malformed request: expected one JSON object such as "
          + example);
    }
    return object;
  }

  /** Maps a strictly parsed object onto a protobuf message (unknown fields are a 400). */
  public static <B extends Message.Builder> B merge(ObjectNode object, B builder) {
    try {
      JsonFormat.parser().merge(MAPPER.writeValueAsString(object), builder);
    } catch (InvalidProtocolBufferException | JacksonException e) {
      throw new ApiException(400, "malformed request: " + e.getMessage());
    }
    return builder;
  }

  /**
   * A number field, exactly as written; empty when absent. Both the JSON name and the proto name
   * are looked at, as protobuf's mapping accepts either. {@code where} names it in errors.
   */
  public static Optional<BigDecimal> decimal(JsonNode object, String jsonName, String protoName,
      String where) {
    JsonNode value = object.get(jsonName);
    if (value == null) {
      value = object.get(protoName);
    }
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isNumber()) {
      throw new ApiException(400, "malformed request: " + where + " must be a JSON number, got "
          + value);
    }
    return Optional.of(value.decimalValue());
  }
}
