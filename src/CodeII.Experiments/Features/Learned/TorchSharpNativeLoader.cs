// The Debian 12 TorchSharp load fix applied at run time, for hosts that load TorchSharp straight from the NuGet
// package folder: .NET Interactive notebooks (`#r "nuget: CodeII.Experiments, ..."`), where no build step of ours
// copies or patches libLibTorchSharp.so. The two byte edits of build/LibTorchSharpLoadFix.cs (compiled into the library too), made
// on a private copy of the library, never on the NuGet cache. The copy is then loaded with its libtorch dependencies
// and handed to TorchSharp through a DllImport resolver, before TorchSharp's own loader runs.
using System.Reflection;
using System.Runtime.InteropServices;

namespace CodeII.Experiments.Features.Learned;

internal static class TorchSharpNativeLoader
{
    static IntPtr _libTorchSharp, _torchCpu;

    /// <summary>What was done, for diagnostics: null when nothing was needed.</summary>
    public static string? Applied { get; private set; }

    public static void PrepareIfNeeded()
    {
        if (_libTorchSharp != IntPtr.Zero || !OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        // Applications built from this repository (CLI, tests) carry the natives beside them, patched by the build.
        var appDir = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(appDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")) || File.Exists(Path.Combine(appDir, "libLibTorchSharp.so"))) return;
        if (LibTorchSharpElf.SystemLibstdcxxHas(LibTorchSharpElf.MissingVersion)) return;

        var torchAssembly = typeof(TorchSharp.torch).Assembly;
        // NuGet package layout: <packages>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
        var libDir = Path.GetDirectoryName(torchAssembly.Location);
        if (string.IsNullOrEmpty(libDir)) return;
        var torchSharpRoot = Path.GetFullPath(Path.Combine(libDir, "..", ".."));
        var packagesDir = Path.GetFullPath(Path.Combine(torchSharpRoot, "..", ".."));
        var source = Path.Combine(torchSharpRoot, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var libtorchDir = Directory.Exists(Path.Combine(packagesDir, "libtorch-cpu-linux-x64"))
            ? Directory.GetDirectories(Path.Combine(packagesDir, "libtorch-cpu-linux-x64"))
                .Select(d => Path.Combine(d, "runtimes", "linux-x64", "native"))
                .Where(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (!File.Exists(source) || libtorchDir is null) return;

        var version = Path.GetFileName(torchSharpRoot);
        var cacheDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
                                    "CodeII.Experiments", "torchsharp-native", version);
        Directory.CreateDirectory(cacheDir);
        var patched = Path.Combine(cacheDir, "libLibTorchSharp.so");
        if (!File.Exists(patched) || new FileInfo(patched).Length != new FileInfo(source).Length)
        {
            var elf = File.ReadAllBytes(source);
            LibTorchSharpElf.Patch(elf);
            var temporary = patched + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temporary, elf);
            File.Move(temporary, patched, overwrite: true);
        }
        // libLibTorchSharp.so finds libtorch.so, libc10.so and libtorch_cpu.so by soname: load them first, by path.
        NativeLibrary.Load(Path.Combine(libtorchDir, "libc10.so"));
        _torchCpu = NativeLibrary.Load(Path.Combine(libtorchDir, "libtorch_cpu.so"));
        NativeLibrary.Load(Path.Combine(libtorchDir, "libtorch.so"));
        _libTorchSharp = NativeLibrary.Load(patched);
        try
        {
            NativeLibrary.SetDllImportResolver(torchAssembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone else set TorchSharp's resolver; the libraries are loaded globally by now, which may still do.
        }
        Applied = $"loaded {patched} (patched copy of {source}) with libtorch from {libtorchDir}";
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name switch
    {
        "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" => _libTorchSharp,
        "torch_cpu" or "libtorch_cpu" or "libtorch_cpu.so" => _torchCpu,
        _ => IntPtr.Zero,
    };
}
