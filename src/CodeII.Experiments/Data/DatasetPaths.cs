namespace CodeII.Experiments.Data;

/// <summary>
/// Files a dataset names (WFDB signal files, PTB-XL's <c>filename_lr</c>/<c>filename_hr</c>, Challenge <c>.mat</c>
/// files, CODE HDF5 parts) are data, and data can be hostile: a header naming <c>/etc/passwd</c> or <c>../../x</c> must
/// not make us read it, nor say how large it is. Each named file is resolved, <c>..</c> and symbolic links followed,
/// and refused unless it lies inside the dataset's folder.
/// </summary>
public static class DatasetPaths
{
    /// <summary>The path of <paramref name="named"/>, relative to <paramref name="folder"/>, once checked to lie inside
    /// <paramref name="datasetRoot"/>; otherwise a located error for <paramref name="record"/>'s <paramref name="field"/>.</summary>
    /// <param name="file">The file that names it, for the error.</param>
    public static string Contained(string datasetRoot, string folder, string named, string file, string record, string field)
    {
        if (named.Length == 0) throw new EcgDataException(file, record, field, "names no file");
        if (Path.IsPathRooted(named))
            throw new EcgDataException(file, record, field, $"'{named}' is an absolute path; a dataset's files must lie inside its folder");
        if (named.Contains('\0')) throw new EcgDataException(file, record, field, "the file name holds a NUL character");
        // Resolved component by component, not collapsed as text first: "link/../x" is where the kernel says it is.
        var path = ResolvedInside(datasetRoot, Path.Combine(Path.GetFullPath(folder), named))
            ?? throw new EcgDataException(file, record, field,
                $"'{named}' lies outside the dataset folder {Path.GetFullPath(datasetRoot)} (after following '..' and symbolic links); a dataset's files must lie inside it");
        if (!Readable(path)) throw new EcgDataException(file, record, field, $"'{named}' is empty, or not a regular file (a pipe or a device)");
        return path;
    }

    /// <summary>Whether <paramref name="path"/>, a file the dataset holds (found by listing its folder, as headers and
    /// HDF5 parts are, or by a fixed name, as label files are), stays inside <paramref name="datasetRoot"/> once its
    /// symbolic links are followed, and can be read without blocking or reading forever.</summary>
    public static bool Holds(string datasetRoot, string path) =>
        !path.Contains('\0') && ResolvedInside(datasetRoot, Path.GetFullPath(path)) is not null && Readable(path);

    /// <summary><paramref name="path"/> when <see cref="Holds"/>; otherwise a located error for its <paramref name="field"/>.</summary>
    public static string Held(string datasetRoot, string path, string record, string field) => Holds(datasetRoot, path) ? path
        : throw new EcgDataException(path, record, field,
            $"is a symbolic link to a file outside the dataset folder {Path.GetFullPath(datasetRoot)}, or empty, or not a regular file (a pipe or a device); a dataset's files must be files inside it");

    /// <summary>A pipe would block the reader and a device (/dev/zero) feed it forever; both, like an empty file, have no
    /// size, which every file a dataset needs has. A missing file passes here, to be reported as missing where it is read.</summary>
    static bool Readable(string path) => !File.Exists(path) || new FileInfo(path).Length > 0;

    /// <summary>The physical path of <paramref name="rootedPath"/> when it lies inside <paramref name="datasetRoot"/>'s
    /// physical folder; null when it lies outside, or its links never end.</summary>
    static string? ResolvedInside(string datasetRoot, string rootedPath)
    {
        if (Resolve(Path.GetFullPath(datasetRoot)) is not { } root || Resolve(rootedPath) is not { } path) return null;
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal) ? path : null;
    }

    /// <summary>The physical path of a rooted path, as realpath(3) gives it: components taken in order, each symbolic
    /// link followed where it stands and each <c>..</c> applied to the physical folder reached so far; parts that do
    /// not exist are kept as written. Null for a cycle of links, or a chain longer than the kernel follows (40 on Linux).</summary>
    static string? Resolve(string rootedPath)
    {
        var root = Path.GetPathRoot(rootedPath) ?? "";
        var current = root;
        var links = 0;
        var parts = new Queue<string>(rootedPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries));
        while (parts.TryDequeue(out var part))
        {
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                if (++links > 40) return null;
                var targetRoot = Path.IsPathRooted(target) ? Path.GetPathRoot(target)! : current;
                current = Path.IsPathRooted(target) ? targetRoot : current;
                parts = new Queue<string>([.. target[(Path.IsPathRooted(target) ? targetRoot.Length : 0)..]
                    .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries), .. parts]);
                continue;
            }
            current = next;
        }
        return current;
    }
}
