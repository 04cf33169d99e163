namespace CodeII.Experiments;

/// <summary>Why a write failed, in words: a full disk said plainly, whatever the operating system calls it.</summary>
public static class WriteFailure
{
    /// <summary>ENOSPC on Unix (28 on Linux and macOS); ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(Exception e) => e is IOException { HResult: 28 or unchecked((int)0x80070027) or unchecked((int)0x80070070) };

    public static string Reason(Exception e) => IsDiskFull(e) ? "the disk is full" : e.Message;
}
