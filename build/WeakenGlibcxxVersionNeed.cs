using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on the Vernaux entry named VersionName in every libLibTorchSharp.so under Directory,
// but only when the system's libstdc++ does not provide that version. ELF64 little-endian only.
public class WeakenGlibcxxVersionNeed : Task
{
    public string Directory { get; set; } = "";
    public string VersionName { get; set; } = "";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        if (SystemHasVersion()) return true;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            try
            {
                var bytes = File.ReadAllBytes(path);
                switch (Weaken(bytes))
                {
                    case Result.Patched:
                        // Write a new file and move it over: the output may be a hard link into the NuGet cache.
                        var tmp = path + ".patching";
                        File.WriteAllBytes(tmp, bytes);
                        File.Delete(path);
                        File.Move(tmp, path);
                        Log.LogMessage(MessageImportance.Normal, $"Marked {VersionName} weak in {path}");
                        break;
                    case Result.NotFound:
                        Log.LogMessage(MessageImportance.Low, $"{path} needs no {VersionName}");
                        break;
                }
            }
            catch (Exception e)
            {
                Log.LogWarning($"Could not patch {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private bool SystemHasVersion()
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        };
        var needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (var c in candidates)
        {
            if (!File.Exists(c)) continue;
            var data = File.ReadAllBytes(c);
            return IndexOf(data, needle) >= 0;
        }
        return false; // unknown system: patching is harmless (the flag only makes a missing version a warning)
    }

    private static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    private enum Result { Patched, AlreadyWeak, NotFound }

    private Result Weaken(byte[] b)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not an ELF64 little-endian file");
        ulong shoff = BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A);
        int shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long sh = checked((long)shoff + (long)s * shentsize);
            uint type = BitConverter.ToUInt32(b, (int)sh + 4);
            if (type != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(b, (int)sh + 24);
            uint link = BitConverter.ToUInt32(b, (int)sh + 40);
            long strsh = checked((long)shoff + (long)link * shentsize);
            long strOffset = (long)BitConverter.ToUInt64(b, (int)strsh + 24);
            long vn = offset;
            while (true)
            {
                ushort cnt = BitConverter.ToUInt16(b, (int)vn + 2);
                uint aux = BitConverter.ToUInt32(b, (int)vn + 8);
                uint next = BitConverter.ToUInt32(b, (int)vn + 12);
                long va = vn + aux;
                for (int i = 0; i < cnt; i++)
                {
                    ushort flags = BitConverter.ToUInt16(b, (int)va + 4);
                    uint name = BitConverter.ToUInt32(b, (int)va + 8);
                    uint vnaNext = BitConverter.ToUInt32(b, (int)va + 12);
                    if (ReadString(b, strOffset + name) == VersionName)
                    {
                        if ((flags & VerFlgWeak) != 0) return Result.AlreadyWeak;
                        flags |= VerFlgWeak;
                        b[va + 4] = (byte)(flags & 0xff);
                        b[va + 5] = (byte)(flags >> 8);
                        return Result.Patched;
                    }
                    if (vnaNext == 0) break;
                    va += vnaNext;
                }
                if (next == 0) break;
                vn += next;
            }
        }
        return Result.NotFound;
    }

    private static string ReadString(byte[] b, long at)
    {
        long end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
    }
}
