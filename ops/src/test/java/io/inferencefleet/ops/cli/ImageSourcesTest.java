package io.inferencefleet.ops.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageSourcesTest {
    @TempDir
    Path temp;
    Path dir;

    @BeforeEach
    void files() throws Exception {
        dir = Files.createDirectories(temp.resolve("imgs"));
        Files.writeString(dir.resolve("b.jpg"), "b");
        Files.writeString(dir.resolve("a.jpg"), "a");
        Files.writeString(dir.resolve("c.png"), "c");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/d.jpg"), "d");
    }

    private String uri(String relative) throws Exception {
        return dir.resolve(relative).toRealPath().toUri().toString();
    }

    @Test
    void aDirectoryGivesItsFilesSortedAsRealFileUris() throws Exception {
        List<String> uris = ImageSources.expand(List.of(dir.toString()), null);
        assertEquals(List.of(uri("a.jpg"), uri("b.jpg"), uri("c.png")), uris);
        assertTrue(uris.get(0).startsWith("file:///"), uris.get(0));
    }

    @Test
    void aFileThroughDotDotBecomesItsRealPath() throws Exception {
        String indirect = dir.resolve("sub/../a.jpg").toString();
        assertEquals(List.of(uri("a.jpg")), ImageSources.expand(List.of(indirect), null));
    }

    @Test
    void globsMatchFilesAndDoubleStarCrossesDirectories() throws Exception {
        assertEquals(List.of(uri("a.jpg"), uri("b.jpg")), ImageSources.expand(List.of(dir + "/*.jpg"), null));
        assertEquals(List.of(uri("a.jpg"), uri("b.jpg"), uri("sub/d.jpg")),
                ImageSources.expand(List.of(dir + "/**.jpg"), null));
        assertThrows(IllegalArgumentException.class, () -> ImageSources.expand(List.of(dir + "/*.gif"), null));
    }

    @Test
    void urisAreKeptAndAListFileIsReadLineByLine() throws Exception {
        Path list = temp.resolve("list.txt");
        Files.writeString(list, "# images\nhttps://images.example/cat.jpg\n\n" + dir.resolve("c.png") + "\n");
        assertEquals(List.of("s3://bucket/x.jpg", "https://images.example/cat.jpg", uri("c.png")),
                ImageSources.expand(List.of("s3://bucket/x.jpg"), list));
    }

    @Test
    void aMissingFileIsAnErrorNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageSources.expand(List.of(dir.resolve("nope.jpg").toString()), null));
        assertTrue(e.getMessage().contains("nope.jpg"), e.getMessage());
    }
}
