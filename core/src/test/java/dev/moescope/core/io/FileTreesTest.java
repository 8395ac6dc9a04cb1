package dev.moescope.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileTreesTest {

    @TempDir
    Path dir;

    @Test
    void deletesANestedTreeAndNothingBesideIt() throws Exception {
        Path root = dir.resolve("run");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/deep.txt"), "x");
        Files.writeString(root.resolve("top.txt"), "y");
        Path sibling = Files.writeString(dir.resolve("run-kept.txt"), "z");
        FileTrees.delete(root);
        assertFalse(Files.exists(root));
        assertTrue(Files.exists(sibling), "a file beside the tree, sharing its name prefix, stays");
        FileTrees.delete(root); // already gone: nothing to do
        Path single = Files.writeString(dir.resolve("single.txt"), "w");
        FileTrees.delete(single);
        assertFalse(Files.exists(single));
    }
}
