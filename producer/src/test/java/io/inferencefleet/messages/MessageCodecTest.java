package io.inferencefleet.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceResult.ErrorInfo;
import io.inferencefleet.messages.InferenceResult.ModelRef;
import io.inferencefleet.messages.InferenceResult.Prediction;
import io.inferencefleet.messages.InferenceResult.Source;
import io.inferencefleet.messages.InferenceResult.Status;
import io.inferencefleet.messages.InferenceResult.Timings;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    private final MessageCodec codec = new MessageCodec();

    @Test
    void requestsRoundTrip() {
        InferenceRequest request = InferenceRequest.of("r-1", "file:///data/cat.jpg")
                .withTopK(3).withDeadlineMs(1_764_230_000_000L).withAttributes(Map.of("camera", "7"));
        byte[] bytes = codec.encode(request);
        assertTrue(new String(bytes, StandardCharsets.UTF_8).startsWith("{\"v\":1,"));
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(bytes);
        assertTrue(decoded.ok(), decoded.error());
        assertEquals(request, decoded.request());
    }

    @Test
    void aMinimalRequestFromAnyToolIsAcceptedAndUnknownFieldsAreIgnored() {
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(
                "{\"id\":\"x\",\"imageUri\":\"https://h/i.png\",\"future\":{\"a\":1}}".getBytes(StandardCharsets.UTF_8));
        assertTrue(decoded.ok(), decoded.error());
        assertNull(decoded.request().topK());
        assertTrue(decoded.request().attributes().isEmpty());
    }

    @Test
    void invalidRequestsSayWhatIsWrongAndKeepTheIdWhenThereIsOne() {
        assertBad("", "empty record value", null);
        assertBad("not json", "not JSON", null);
        assertBad("[1,2]", "expected a JSON object", null);
        assertBad("{\"imageUri\":\"file:///a.jpg\"}", "missing or empty string field 'id'", null);
        assertBad("{\"id\":\"a\"}", "missing or empty string field 'imageUri'", "a");
        assertBad("{\"id\":\"a\",\"imageUri\":\"u\",\"topK\":0}", "Invalid value 0 for topK", "a");
        assertBad("{\"id\":\"a\",\"imageUri\":\"u\",\"topK\":2.5}", "Invalid value 2.5 for topK", "a");
        assertBad("{\"id\":\"a\",\"imageUri\":\"u\",\"deadlineMs\":\"soon\"}", "for deadlineMs", "a");
        assertBad("{\"v\":2,\"id\":\"a\",\"imageUri\":\"u\"}", "unsupported message version v=2", "a");
        assertBad("{\"id\":\"" + "x".repeat(300) + "\",\"imageUri\":\"u\"}", "at most 256", "x".repeat(256));
    }

    @Test
    void resultsRoundTripWithOnlyThePartsTheirStatusNeeds() {
        InferenceResult ok = new InferenceResult("r-1", Status.OK, new ModelRef("resnet50", "sha256:ab12"),
                List.of(new Prediction(3, 0.75f, "cat"), new Prediction(1, 0.2f, null)),
                new Timings(0.4, 1.5, 3.2, 140.0, 146.0), "node0-w1", new Source("images", 2, 41L), null,
                Map.of("camera", "7"));
        assertEquals(ok, codec.decodeResult(codec.encode(ok)));

        InferenceResult error = new InferenceResult("r-2", Status.ERROR, null, null, null, "node0-w1",
                new Source("images", 0, 7L), new ErrorInfo("truncated_image", "JPEG ends early"), null);
        String json = new String(codec.encode(error), StandardCharsets.UTF_8);
        assertFalse(json.contains("predictions"), json);
        assertTrue(json.contains("\"error\":{\"code\":\"truncated_image\""), json);
        assertEquals(error, codec.decodeResult(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theEngineTravelsInTheModelFieldAndIsLeftOutWhenUnknown() {
        InferenceResult ort = new InferenceResult("r-3", Status.OK, new ModelRef("resnet50", "sha256:ab12", "onnxruntime"),
                List.of(new Prediction(3, 0.75f, null)), null, "w", null, null, null);
        String json = new String(codec.encode(ort), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"model\":{\"name\":\"resnet50\",\"version\":\"sha256:ab12\",\"engine\":\"onnxruntime\"}"),
                json);
        assertEquals(ort, codec.decodeResult(json.getBytes(StandardCharsets.UTF_8)));
        String older = "{\"id\":\"r-4\",\"status\":\"OK\",\"model\":{\"name\":\"m\",\"version\":\"1\"}}";
        assertEquals(new ModelRef("m", "1"), codec.decodeResult(older.getBytes(StandardCharsets.UTF_8)).model());
        assertFalse(new String(codec.encode(codec.decodeResult(older.getBytes(StandardCharsets.UTF_8))),
                StandardCharsets.UTF_8).contains("engine"));
    }

    @Test
    void aResultThatIsNotOneIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.decodeResult("{\"v\":9}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("v=9"), e.getMessage());
    }

    private void assertBad(String json, String why, String id) {
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(json.getBytes(StandardCharsets.UTF_8));
        assertFalse(decoded.ok(), json);
        assertTrue(decoded.error().contains(why), decoded.error());
        assertEquals(id, decoded.id(), json);
    }

    @Test
    void theIdLimitIsInUtf8BytesSoEveryValidIdFitsTheWorkersSharedMemoryRecord() {
        String ascii = "a".repeat(InferenceRequest.MAX_ID_BYTES);
        assertTrue(new MessageCodec().decodeRequest(new MessageCodec().encode(InferenceRequest.of(ascii, "file:///a"))).ok());
        String cjk85 = "漢".repeat(85);  // 255 bytes
        assertTrue(new MessageCodec().decodeRequest(new MessageCodec().encode(InferenceRequest.of(cjk85, "file:///a"))).ok());
        String cjk86 = "漢".repeat(86);  // 86 characters, 258 bytes: under the old 256-character limit
        MessageCodec.DecodedRequest refused = new MessageCodec().decodeRequest(
                new MessageCodec().encode(InferenceRequest.of(cjk86, "file:///a")));
        assertTrue(!refused.ok());
        assertEquals("'id' is 258 bytes of UTF-8 (86 characters), at most 256 bytes allowed", refused.error());
        assertEquals(cjk85, refused.id(), "the id is cut at a character boundary for the error result");
        String emoji = "\uD83D\uDE00".repeat(65);  // 65 code points, 260 bytes
        assertEquals(260, MessageCodec.utf8Length(emoji));
        assertEquals(emoji.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, MessageCodec.utf8Length(emoji));
        assertEquals("\uD800x".getBytes(java.nio.charset.StandardCharsets.UTF_8).length, MessageCodec.utf8Length("\uD800x"));
    }
}
