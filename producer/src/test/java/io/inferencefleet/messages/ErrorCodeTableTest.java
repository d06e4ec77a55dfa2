package io.inferencefleet.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's table of error codes lists exactly the codes of {@link ErrorCode}, with their meanings. */
class ErrorCodeTableTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\| (.+) \\|$", Pattern.MULTILINE);

    @Test
    void theReadmeTableMatchesTheEnum() throws Exception {
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme);
        String section = text.substring(text.indexOf("### Error codes"));
        section = section.substring(0, section.indexOf("\n## "));
        Map<String, String> documented = new LinkedHashMap<>();
        for (Matcher m = ROW.matcher(section); m.find(); ) {
            documented.put(m.group(1), m.group(2));
        }
        Map<String, String> defined = new LinkedHashMap<>();
        Arrays.stream(ErrorCode.values()).forEach(c -> defined.put(c.code(), c.meaning()));
        assertEquals(defined, documented);
    }

    @Test
    void wireFormsRoundTrip() {
        for (ErrorCode code : ErrorCode.values()) {
            assertEquals(code, ErrorCode.of(code.code()));
        }
        assertEquals(java.util.Optional.empty(), ErrorCode.fromCode("no_such_code"));
    }
}
