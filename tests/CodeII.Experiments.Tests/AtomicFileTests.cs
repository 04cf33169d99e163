namespace CodeII.Experiments.Tests;

public class AtomicFileTests
{
    [Fact]
    public void Writers_of_one_file_at_the_same_moment_all_succeed_and_leave_one_of_their_files_whole()
    {
        var path = Path.Combine(RepoPaths.NewTemporaryDirectory(), "table.arrow");
        const int writers = 8;
        // Large enough that the writes overlap: each writer's bytes are its own number, repeated.
        var contents = Enumerable.Range(0, writers).Select(k => Enumerable.Repeat((byte)k, 8 << 20).ToArray()).ToArray();
        using var start = new Barrier(writers);
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, writers).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            try { AtomicFile.WriteBytes(path, contents[k]); }
            catch (Exception e) { failures.Add(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();

        Assert.Empty(failures);
        var written = File.ReadAllBytes(path);
        Assert.Contains(contents, c => c.AsSpan().SequenceEqual(written));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void A_write_that_fails_leaves_neither_the_file_nor_a_temporary_one()
    {
        var folder = RepoPaths.NewTemporaryDirectory();
        var path = Path.Combine(folder, "x.json");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new InvalidOperationException("the disk filled up");
        }));
        Assert.Empty(Directory.GetFiles(folder));
    }
}
