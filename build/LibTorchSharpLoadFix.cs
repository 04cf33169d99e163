// TorchSharp 0.107.0's libLibTorchSharp.so was built with GCC 13 and asks for GLIBCXX_3.4.32 for one symbol,
// std::ios_base_library_init(), which GCC 13's <iostream> references only to pull in libstdc++'s stream setup.
// Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the loader refuses the library. No relocation uses the symbol,
// so the fix is two byte edits in the ELF file (see ../shared/PLATFORM.md): mark the GLIBCXX_3.4.32 requirement weak
// (VER_FLG_WEAK in its Vernaux entry) and make the symbol's version entry global. Both edits are idempotent.
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/TorchSharp.targets), whose task patches the
// natives of every build output after the build, and into the library (CODEII_RUNTIME), whose TorchSharpNativeLoader
// patches a private copy at run time where no build of ours placed the natives (a notebook's package reference).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
#if !CODEII_RUNTIME
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

#if !CODEII_RUNTIME
public sealed class PatchLibTorchSharpForDebian12 : Task
{
    [Required] public string LibraryPath { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath)) return true;
        if (LibTorchSharpElf.SystemLibstdcxxHas(LibTorchSharpElf.MissingVersion))
        {
            Log.LogMessage(MessageImportance.Low, $"libstdc++ provides {LibTorchSharpElf.MissingVersion}; {LibraryPath} left as shipped");
            return true;
        }
        try
        {
            var elf = File.ReadAllBytes(LibraryPath);
            var edits = LibTorchSharpElf.Patch(elf);
            if (edits.Count > 0)
            {
                // Only the changed bytes are written, in place: the file keeps its mode and cannot be left truncated.
                using (var file = new FileStream(LibraryPath, FileMode.Open, FileAccess.Write))
                    foreach (var at in edits)
                    {
                        file.Position = at;
                        file.Write(elf, (int)at, 2);
                    }
                Log.LogMessage(MessageImportance.High, $"TorchSharp load fix applied to {LibraryPath} (this system's libstdc++ lacks {LibTorchSharpElf.MissingVersion})");
            }
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Log.LogError($"TorchSharp load fix: cannot patch {LibraryPath}: {e.Message}");
            return false;
        }
    }
}
#endif

/// <summary>The two byte edits, and whether this system needs them.</summary>
internal static class LibTorchSharpElf
{
    public const string MissingVersion = "GLIBCXX_3.4.32";
    const string Symbol = "_ZSt21ios_base_library_initv";
    const uint ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    const ushort VerFlagWeak = 0x2;

    public static bool SystemLibstdcxxHas(string version)
    {
        foreach (var directory in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" })
        {
            var path = Path.Combine(directory, "libstdc++.so.6");
            if (File.Exists(path)) return Contains(File.ReadAllBytes(path), Encoding.ASCII.GetBytes(version + "\0"));
        }
        // No libstdc++ found where Debian keeps it: not the platform this fix is for.
        return true;
    }

    // netstandard2.0 (what task code compiles against) has no span search.
    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    /// <summary>Edits <paramref name="elf"/> and returns the offsets of the two-byte fields it changed.</summary>
    public static List<long> Patch(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        var sectionTable = (long)U64(elf, 0x28);
        var entrySize = U16(elf, 0x3A);
        var count = U16(elf, 0x3C);
        long Header(int i) => sectionTable + (long)i * entrySize;
        uint Type(int i) => U32(elf, Header(i) + 4);
        long Offset(int i) => (long)U64(elf, Header(i) + 0x18);
        long Size(int i) => (long)U64(elf, Header(i) + 0x20);
        int Link(int i) => (int)U32(elf, Header(i) + 0x28);
        uint Info(int i) => U32(elf, Header(i) + 0x2C);
        string Name(int stringTable, uint offset)
        {
            var start = Offset(stringTable) + offset;
            var end = start;
            while (elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        var edits = new List<long>();
        var foundRequirement = false;
        for (var s = 0; s < count; s++)
        {
            if (Type(s) != ShtGnuVerneed) continue;
            var need = Offset(s);
            for (var n = 0; n < Info(s); n++)
            {
                var aux = need + U32(elf, need + 8);
                for (var a = 0; a < U16(elf, need + 2); a++)
                {
                    if (Name(Link(s), U32(elf, aux + 8)) == MissingVersion)
                    {
                        foundRequirement = true;
                        var flags = U16(elf, aux + 4);
                        if ((flags & VerFlagWeak) == 0) { W16(elf, aux + 4, (ushort)(flags | VerFlagWeak)); edits.Add(aux + 4); }
                    }
                    aux += U32(elf, aux + 12);
                }
                need += U32(elf, need + 12);
            }
        }
        if (!foundRequirement) return edits;

        for (var s = 0; s < count; s++)
        {
            if (Type(s) != ShtDynsym) continue;
            var versym = -1;
            for (var v = 0; v < count; v++) if (Type(v) == ShtGnuVersym && Link(v) == s) versym = v;
            if (versym < 0) continue;
            for (var i = 0; i < Size(s) / 24; i++)
            {
                if (Name(Link(s), U32(elf, Offset(s) + i * 24)) != Symbol) continue;
                var entry = Offset(versym) + i * 2;
                if (U16(elf, entry) != 1) { W16(elf, entry, 1); edits.Add(entry); }
            }
        }
        return edits;
    }

    static ushort U16(byte[] b, long at) => BitConverter.ToUInt16(b, (int)at);
    static uint U32(byte[] b, long at) => BitConverter.ToUInt32(b, (int)at);
    static ulong U64(byte[] b, long at) => BitConverter.ToUInt64(b, (int)at);
    static void W16(byte[] b, long at, ushort value) { b[at] = (byte)value; b[at + 1] = (byte)(value >> 8); }
}
