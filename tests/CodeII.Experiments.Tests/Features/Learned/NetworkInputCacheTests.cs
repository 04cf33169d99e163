using System.Diagnostics;
using System.Text.RegularExpressions;
using CodeII.Experiments.Features.Learned;

namespace CodeII.Experiments.Tests.Features.Learned;

/// <summary>
/// The network's input cache is only a cache: a disk that cannot hold it turns it off with a warning naming the file,
/// and the run goes on reading the data. (It used to be a sparse memory map, and a full disk under it killed the
/// process with SIGBUS, exit 135, without a word.)
/// </summary>
public class NetworkInputCacheTests
{
    const string Off = "so it is off: exams it does not hold are decoded from the data each time the network reads them";

    static float[] Exam(int floats, float start) => [.. Enumerable.Range(0, floats).Select(i => start + i)];

    [Fact]
    public void An_exam_written_is_read_back_in_this_session_and_the_next_and_an_exam_not_written_is_not()
    {
        var folder = Path.Combine(RepoPaths.NewTemporaryDirectory(), "inputs");
        using (var cache = new NetworkInputCache(folder, exams: 3, floatsPerExam: 24))
        {
            cache.Write(2, Exam(24, 100));
            var read = new float[24];
            Assert.True(cache.TryRead(2, read));
            Assert.Equal(Exam(24, 100), read);
            Assert.False(cache.TryRead(0, read));
            Assert.Null(cache.Unwritable);
        }
        using (var reopened = new NetworkInputCache(folder, exams: 3, floatsPerExam: 24))
        {
            var read = new float[24];
            Assert.True(reopened.TryRead(2, read));
            Assert.Equal(Exam(24, 100), read);
            Assert.Equal(1, reopened.CachedCount);
        }
        // Another number of exams is another cache: nothing of the old one is taken for it.
        using var resized = new NetworkInputCache(folder, exams: 4, floatsPerExam: 24);
        Assert.Equal(0, resized.CachedCount);
    }

    [Fact]
    public void A_disk_too_small_for_the_cache_turns_it_off_at_once_naming_the_file_the_free_space_and_the_space_it_needs()
    {
        var folder = Path.Combine(RepoPaths.NewTemporaryDirectory(), "inputs");
        // 1,000,000 exams of 300,000,000 floats: 1.2 PB, more than any disk a test runs on.
        using var cache = new NetworkInputCache(folder, exams: 1_000_000, floatsPerExam: 300_000_000);
        var data = Path.Combine(folder, "inputs.f32");
        Assert.Matches(new Regex($"^{Regex.Escape(data)}: the network input cache cannot be written \\(the disk holding it has [0-9.]+ MB free; "
            + $"it needs 1200000000 MB for 1000000 exams\\), {Regex.Escape(Off)}$"), cache.Unwritable);
        // The reservation failed whole: the cache took no space the run's checkpoints need.
        Assert.False(File.Exists(data));
        cache.Write(0, new float[300_000_000]);
        Assert.False(cache.TryRead(0, new float[300_000_000]));
    }

    [Fact]
    public void A_write_the_disk_refuses_turns_the_cache_off_rather_than_ending_the_process()
    {
        var folder = Path.Combine(RepoPaths.NewTemporaryDirectory(), "inputs");
        Directory.CreateDirectory(folder);
        var data = Path.Combine(folder, "inputs.f32");
        // Every write to /dev/full fails with ENOSPC, as on a disk that filled after the cache was made.
        File.CreateSymbolicLink(data, "/dev/full");
        using var cache = new NetworkInputCache(folder, exams: 2, floatsPerExam: 12_000);
        Assert.Null(cache.Unwritable);

        cache.Write(1, Exam(12_000, 0));
        Assert.Equal($"{data}: the network input cache cannot be written (the disk is full; it needs 0.1 MB for 2 exams), {Off}", cache.Unwritable);
        Assert.False(cache.TryRead(1, new float[12_000]));
        cache.Write(0, Exam(12_000, 0));
        Assert.Equal(0, cache.CachedCount);
    }

    [Fact]
    public async Task A_run_whose_input_cache_the_process_may_not_write_warns_and_finishes()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "net.yaml"), """
            name: net
            dataset: { exams: 200 }
            label_subsets: { rhythm: [SB, ST, AF] }
            features: [learned]
            pretrain: { model: small, epochs: 1 }
            learners: { logistic_regression: { trials: 1 } }
            evaluation: { bootstrap_replicates: 20, importance: false }
            """);
        // A file size limit of 5 MB stands in for a full disk without root (mounting a small tmpfs needs it): the
        // inputs of 200 exams take 9.6 MB, every other file of the run less than 5 MB. The limit's signal is ignored,
        // so a write past it fails as one past a full disk does, and the runtime's W^X double mapping (a file of
        // its own) is off so the limit does not stop the runtime itself.
        var start = new ProcessStartInfo("bash") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        start.Environment["COLUMNS"] = "10000";
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("ulimit -f 5000; trap '' XFSZ; exec dotnet \"$0\" run net.yaml --runs runs --cache cache/features --max-threads 2");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "codeii.dll"));
        using var process = Process.Start(start)!;
        var (stdout, stderr) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "codeii did not finish in 3 minutes");
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}{output}");

        var inputs = Directory.GetDirectories(Path.Combine(dir, "cache", "networks"), "inputs-*").Single();
        var warning = $"warning: {Path.Combine(inputs, "inputs.f32")}: the network input cache cannot be written (";
        Assert.Contains(output.ReplaceLineEndings("\n").Split('\n'), l => l.StartsWith(warning, StringComparison.Ordinal) && l.EndsWith(Off, StringComparison.Ordinal));
        var manifest = File.ReadAllText(Directory.GetFiles(Path.Combine(dir, "runs", "net"), "manifest.json", SearchOption.AllDirectories).Single());
        Assert.Contains("network inputs: " + Path.Combine(inputs, "inputs.f32").Replace("\\", "\\\\"), manifest);
    }
}
