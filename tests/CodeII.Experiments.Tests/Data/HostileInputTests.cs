using System.Buffers.Binary;
using System.Globalization;
using static CodeII.Experiments.Tests.CliTests;

namespace CodeII.Experiments.Tests.Data;

/// <summary>
/// Hostile and broken datasets, built from the real sample files, run through the commands a user would: each must
/// end with a located error or a listed skip, and a canary file outside the dataset must never be read.
/// </summary>
public class HostileInputTests
{
    /// <summary>A file outside every dataset, shaped like a WFDB format-16 signal file so that, were it read, its
    /// samples (all 12345) or its size (27158 bytes) would show up in a plot, a feature file or an error.</summary>
    sealed class Canary
    {
        public const int Sample = 12345;
        const int Frames = 13579;
        public string Folder { get; }
        public string Signal { get; }
        public long Size => Frames * 2L;

        public Canary(string root)
        {
            Folder = Path.Combine(root, "outside");
            Directory.CreateDirectory(Folder);
            Signal = Path.Combine(Folder, "canary.dat");
            var bytes = new byte[Frames * 2];
            for (var i = 0; i < Frames; i++) BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), Sample);
            File.WriteAllBytes(Signal, bytes);
            // A header beside it, for datasets that name headers (PTB-XL's filename_lr/filename_hr).
            File.WriteAllText(Path.Combine(Folder, "canary.hea"), $"canary 1 100 {Frames}\ncanary.dat 16 1000(0)/mV 16 0 {Sample} 0 0 I\n");
            foreach (var file in Directory.GetFiles(Folder)) File.SetLastAccessTimeUtc(file, Untouched);
        }

        /// <summary>The canary files' access time, set far in the past: with relatime (Linux's default) any read of a
        /// file moves its access time forward, since it is older than the file's modification time.</summary>
        public static readonly DateTime Untouched = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Whether this file system records reads at all (not mounted noatime): a control file is read to see.</summary>
        static readonly Lazy<bool> ReadsAreRecorded = new(() =>
        {
            var control = Path.Combine(RepoPaths.NewTemporaryDirectory(), "control");
            File.WriteAllText(control, "control");
            File.SetLastAccessTimeUtc(control, Untouched);
            _ = File.ReadAllText(control);
            return File.GetLastAccessTimeUtc(control) > Untouched;
        });

        /// <summary>No file of the canary's folder was read: its access time has not moved (where the file system
        /// records reads; everywhere, nothing of it appears in the output, which <see cref="NotLeakedInto"/> checks).</summary>
        public void NotRead()
        {
            if (!ReadsAreRecorded.Value) return;
            foreach (var file in Directory.GetFiles(Folder, "*", SearchOption.AllDirectories))
                Assert.True(File.GetLastAccessTimeUtc(file) == Untouched, $"{file} was read");
        }

        /// <summary>Nothing the canary holds, or its size, appears in <paramref name="texts"/>.</summary>
        public void NotLeakedInto(params string[] texts)
        {
            foreach (var text in texts)
            {
                Assert.DoesNotContain(Sample.ToString(CultureInfo.InvariantCulture), text);
                Assert.DoesNotContain("12.345", text); // the sample in mV at a gain of 1000
                Assert.DoesNotContain("61.725", text); // and at WFDB's default gain of 200
                Assert.DoesNotContain(Size.ToString(CultureInfo.InvariantCulture), text);
                Assert.DoesNotContain(Size.ToString("N0", CultureInfo.InvariantCulture), text);
            }
        }
    }

    static void NoStackTrace(string output)
    {
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    /// <summary>Plots the one record <c>pw</c> of <paramref name="dataset"/>: it must fail on the named signal file.</summary>
    static void PlotIsRefused(string dataset, Canary canary, string why)
    {
        var html = Path.Combine(dataset, "..", "x.html");
        var (exit, stdout, stderr) = Codeii(dataset, "data", "plot", Path.Combine(dataset, "pw"), "--record", "pw", "--out", html);
        var output = stdout + stderr;
        Assert.True(exit == 1, $"exit {exit}: {output}");
        Assert.Contains("pw.hea: record pw, signal 1 file name:", output);
        Assert.Contains(why, output);
        NoStackTrace(output);
        Assert.False(File.Exists(html));
        canary.NotLeakedInto(output);
        canary.NotRead();
    }

    static string NewDataset(string root, string name)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void A_WFDB_header_cannot_make_a_command_read_a_file_outside_the_dataset()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var canary = new Canary(root);
        static void Header(string dataset, string signalFile) =>
            File.WriteAllText(Path.Combine(dataset, "pw.hea"), $"pw 1 100\n{signalFile} 16 1000(0)/mV 16 0\n");

        // The probe's reproduction: an absolute path.
        var absolute = NewDataset(root, "absolute");
        Header(absolute, canary.Signal);
        PlotIsRefused(absolute, canary, "is an absolute path");

        // A relative path climbing out.
        var climbing = NewDataset(root, "climbing");
        Header(climbing, "../outside/canary.dat");
        PlotIsRefused(climbing, canary, "lies outside the dataset folder");

        // A symbolic link inside the dataset to the file outside.
        var linked = NewDataset(root, "linked");
        File.CreateSymbolicLink(Path.Combine(linked, "link.dat"), canary.Signal);
        Header(linked, "link.dat");
        PlotIsRefused(linked, canary, "lies outside the dataset folder");

        // "sub/../canary.dat", sub being a link to a folder outside: read as text it is the dataset's own canary.dat
        // (which exists, and is harmless), but the kernel opens the canary outside, so it is refused.
        var dotted = NewDataset(root, "dotted");
        Directory.CreateDirectory(Path.Combine(canary.Folder, "deeper"));
        Directory.CreateSymbolicLink(Path.Combine(dotted, "sub"), Path.Combine(canary.Folder, "deeper"));
        File.WriteAllBytes(Path.Combine(dotted, "canary.dat"), new byte[200]);
        Header(dotted, "sub/../canary.dat");
        PlotIsRefused(dotted, canary, "lies outside the dataset folder");

        // A signal file in a subfolder of the dataset is the dataset's own, and is read.
        var nested = NewDataset(root, "nested");
        Directory.CreateDirectory(Path.Combine(nested, "signals"));
        File.WriteAllBytes(Path.Combine(nested, "signals", "pw.dat"), [.. Enumerable.Range(0, 1000).SelectMany(i => new byte[] { (byte)(i % 50), 0 })]);
        Header(nested, "signals/pw.dat");
        var (exit, stdout, stderr) = Codeii(nested, "data", "plot", Path.Combine(nested, "pw"), "--record", "pw", "--out", Path.Combine(root, "nested.html"));
        Assert.True(exit == 0, stdout + stderr);
    }

    [Fact]
    public void Headers_and_label_files_found_in_the_folder_are_not_read_when_they_lead_out_of_it_and_pipes_are_not_opened()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var canary = new Canary(root);

        // A header in the folder that is a link to a header outside it.
        var linkedHeader = NewDataset(root, "linked-header");
        File.CreateSymbolicLink(Path.Combine(linkedHeader, "x.hea"), Path.Combine(canary.Folder, "canary.hea"));
        var (exit, stdout, stderr) = Codeii(root, "data", "inspect", linkedHeader);
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("x.hea: record x, header: is a symbolic link to a file outside the dataset folder", stdout + stderr);
        NoStackTrace(stdout + stderr);
        canary.NotLeakedInto(stdout, stderr);
        canary.NotRead();

        // A header that is a link to a device that never ends.
        var endless = NewDataset(root, "endless");
        File.CreateSymbolicLink(Path.Combine(endless, "z.hea"), "/dev/zero");
        (exit, stdout, stderr) = Codeii(root, "data", "plot", Path.Combine(endless, "z"), "--record", "z");
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("z.hea: record z, header: is a symbolic link to a file outside the dataset folder", stdout + stderr);

        // A signal file that is a named pipe: opening it to read would wait for a writer for ever.
        var piped = NewDataset(root, "piped");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(piped, "pw.dat")])) mkfifo.WaitForExit();
        File.WriteAllText(Path.Combine(piped, "pw.hea"), "pw 1 100\npw.dat 16 1000(0)/mV 16 0\n");
        (exit, stdout, stderr) = Codeii(root, "data", "plot", Path.Combine(piped, "pw"), "--record", "pw", "--out", Path.Combine(root, "piped.html"));
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("pw.hea: record pw, signal 1 file name: 'pw.dat' is empty, or not a regular file (a pipe or a device)", stdout + stderr);

        // A label file that is a link out of the folder: CODE's exams.csv pointing at the canary's header.
        var code = NewDataset(root, "code");
        (exit, stdout, stderr) = Codeii(root, "data", "synth", "--out", code, "--exams", "10");
        Assert.True(exit == 0, stdout + stderr);
        File.Delete(Path.Combine(code, "exams.csv"));
        File.CreateSymbolicLink(Path.Combine(code, "exams.csv"), Path.Combine(canary.Folder, "canary.hea"));
        (exit, stdout, stderr) = Codeii(root, "features", "extract", code, "--out", Path.Combine(root, "code.csv"));
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("exams.csv: record (file), label file: is a symbolic link to a file outside the dataset folder", stdout + stderr);
        canary.NotLeakedInto(stdout, stderr);
        canary.NotRead();
    }

    [Fact]
    public void PTB_XL_file_names_Challenge_mat_files_and_CODE_parts_must_lie_inside_the_dataset()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var canary = new Canary(root);

        // PTB-XL: ecg_id 2's filename_lr and filename_hr name the canary's header outside.
        var ptbxl = NewDataset(root, "ptbxl");
        File.Copy(RepoPaths.Shared("ptbxl", "scp_statements.csv"), Path.Combine(ptbxl, "scp_statements.csv"));
        var rows = File.ReadAllLines(RepoPaths.Shared("ptbxl", "ptbxl_database.csv")).Take(4).ToArray();
        rows[2] = rows[2].Replace("records100/00000/00002_lr", "../outside/canary").Replace("records500/00000/00002_hr", "../outside/canary");
        Assert.Contains("../outside/canary", rows[2]);
        File.WriteAllLines(Path.Combine(ptbxl, "ptbxl_database.csv"), rows);
        Directory.CreateDirectory(Path.Combine(ptbxl, "records500", "00000"));
        foreach (var id in new[] { 1, 3 })
            foreach (var ext in new[] { ".hea", ".dat" })
                File.Copy(RepoPaths.Shared("ptbxl", "records500", "00000", $"{id:D5}_hr{ext}"), Path.Combine(ptbxl, "records500", "00000", $"{id:D5}_hr{ext}"));
        var (exit, stdout, stderr) = Codeii(root, "features", "extract", ptbxl, "--out", Path.Combine(root, "ptbxl.csv"));
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("record ecg_id 2, filename_hr: '../outside/canary.hea' lies outside the dataset folder", stdout + stderr);
        NoStackTrace(stdout + stderr);
        canary.NotLeakedInto(stdout, stderr);
        canary.NotRead();
        // Skipping it keeps the other two exams, and says which was left out and why.
        (exit, stdout, stderr) = Codeii(root, "features", "extract", ptbxl, "--out", Path.Combine(root, "ptbxl.csv"), "--skip-bad-records");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(root, "ptbxl.csv")).Length);
        Assert.Contains("record 2, filename_hr: '../outside/canary.hea' lies outside", stdout);
        canary.NotLeakedInto(stdout, stderr, File.ReadAllText(Path.Combine(root, "ptbxl.csv")));
        canary.NotRead();

        // Challenge: E07501's header names the canary by its absolute path instead of E07501.mat.
        var challenge = NewDataset(root, "challenge");
        foreach (var record in new[] { "E07500", "E07501" })
            foreach (var ext in new[] { ".hea", ".mat" })
                File.Copy(RepoPaths.Shared("cinc2021", record + ext), Path.Combine(challenge, record + ext));
        var header = Path.Combine(challenge, "E07501.hea");
        File.WriteAllText(header, File.ReadAllText(header).Replace("E07501.mat ", canary.Signal + " "));
        (exit, stdout, stderr) = Codeii(root, "features", "extract", challenge, "--out", Path.Combine(root, "challenge.csv"));
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("E07501.hea: record E07501, signal 1 file name:", stdout + stderr);
        Assert.Contains("is an absolute path", stdout + stderr);
        canary.NotLeakedInto(stdout, stderr);
        canary.NotRead();

        // CODE: an HDF5 part that is a link to a file outside the folder.
        var code = NewDataset(root, "code");
        (exit, stdout, stderr) = Codeii(root, "data", "synth", "--out", code, "--exams", "20", "--exams-per-part", "10");
        Assert.True(exit == 0, stdout + stderr);
        File.Move(Path.Combine(code, "exams_part1.hdf5"), Path.Combine(canary.Folder, "part1.hdf5"));
        File.SetLastAccessTimeUtc(Path.Combine(canary.Folder, "part1.hdf5"), Canary.Untouched);
        File.CreateSymbolicLink(Path.Combine(code, "exams_part1.hdf5"), Path.Combine(canary.Folder, "part1.hdf5"));
        (exit, stdout, stderr) = Codeii(root, "features", "extract", code, "--out", Path.Combine(root, "code.csv"));
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("exams_part1.hdf5: record (file), HDF5 part: is a symbolic link to a file outside the dataset folder", stdout + stderr);
        NoStackTrace(stdout + stderr);
        canary.NotRead();
    }

    [Fact]
    public void Every_broken_record_is_named_and_with_skipping_listed_while_the_good_ones_are_kept()
    {
        var dataset = HostileRecords.CopyAsWfdbFolder(34);
        HostileRecords.ApplyAll(dataset);
        var root = Path.GetDirectoryName(dataset)!;

        // Without skipping: the run stops on a broken record, naming its file, record and field.
        var (exit, stdout, stderr) = Codeii(root, "features", "extract", dataset, "--out", Path.Combine(dataset, "..", "strict.csv"), "--max-threads", "1");
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        var first = HostileRecords.Faults[0];
        Assert.Contains($"{first.EcgId:D5}_lr.hea: record {first.EcgId:D5}_lr, {first.Field}:", stdout + stderr);
        NoStackTrace(stdout + stderr);

        // With skipping: each broken record is listed with its file and field, the others extracted.
        var csv = Path.Combine(dataset, "..", "lenient.csv");
        (exit, stdout, stderr) = Codeii(root, "features", "extract", dataset, "--out", csv, "--skip-bad-records");
        Assert.True(exit == 0, stdout + stderr);
        NoStackTrace(stdout + stderr);
        var lines = stdout.Split('\n').Select(l => l.Trim()).ToArray();
        foreach (var fault in HostileRecords.Faults)
        {
            var name = $"{fault.EcgId:D5}_lr";
            var line = lines.SingleOrDefault(l => l.StartsWith("skipped ", StringComparison.Ordinal) && l.Contains($"record {name}, "));
            Assert.True(line is not null, $"{name} is not listed as skipped:\n{stdout}");
            Assert.Contains($"{name}.", line); // the header or the signal file of that record
            Assert.Contains($", {fault.Field}: ", line);
            Assert.Contains(fault.Reason, line);
        }
        Assert.Equal(HostileRecords.Faults.Count, lines.Count(l => l.StartsWith("skipped ", StringComparison.Ordinal)));
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(34 - HostileRecords.Faults.Count, rows.Length);
        Assert.Contains($"{HostileRecords.UncalibratedEcgId:D5}_lr", rows);
        Assert.Contains(lines, l => l.StartsWith($"warning record {HostileRecords.UncalibratedEcgId:D5}_lr: ADC gain 0 (uncalibrated) on lines 2, 3, 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gain_of_0_is_read_as_WFDB_reads_it_200_per_mV_and_warned_about()
    {
        var dataset = HostileRecords.CopyAsWfdbFolder(34);
        var original = CodeII.Experiments.Data.Wfdb.WfdbRecordReader.Read(Path.Combine(dataset, "00029_lr")).ToMillivolts();
        HostileRecords.ApplyAll(dataset);
        var record = CodeII.Experiments.Data.Wfdb.WfdbRecordReader.Read(Path.Combine(dataset, "00029_lr"));
        var uncalibrated = record.ToMillivolts();
        // The header's gain was 1000 per mV; read at 200, every amplitude is 5 times the calibrated one.
        for (var lead = 0; lead < 12; lead++)
            for (var n = 0; n < 1000; n += 97)
                Assert.Equal(original[lead][n] * 5, uncalibrated[lead][n], 4);
        var warning = Assert.Single(record.Header.Warnings);
        Assert.Equal("ADC gain 0 (uncalibrated) on lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13: read as WFDB's default of 200 ADC units per mV, so amplitudes are right only if the recorder used 200", warning);
    }
}
