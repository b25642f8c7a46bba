using System.Globalization;
using System.Text.Json;

namespace NestedApic.Hardware;

/// <summary>A problem with one field of a conformance line; <see cref="Field"/> is the JSON name.</summary>
public readonly record struct ConformanceFieldError(string Field, string Message)
{
    /// <summary>The commands' diagnostic: <c>FILE:LINE: field X: what is wrong</c>.</summary>
    public string Format(string file, int line) => $"{file}:{line}: field {Field}: {Message}";
}

/// <summary>Reads fields, keeping the first problem and ignoring everything after it.</summary>
public struct ConformanceLineReader(JsonElement root)
{
    public ConformanceFieldError? Error;

    public void Fail(string field, string message) => Error ??= new(field, message);

    private bool Get(string name, bool required, out JsonElement value)
    {
        value = default;
        if (Error is not null) return false;
        if (root.TryGetProperty(name, out value)) return true;
        if (required) Fail(name, "missing");
        return false;
    }

    public string? RequiredString(string name)
    {
        if (!Get(name, true, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String || v.GetString()!.Length == 0)
        {
            Fail(name, $"expected a non-empty string, found {Describe(v)}");
            return null;
        }
        return v.GetString();
    }

    public string? OptionalString(string name)
    {
        if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        Fail(name, $"expected a string or null, found {Describe(v)}");
        return null;
    }

    public string[] OptionalStringArray(string name)
    {
        if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) { Fail(name, $"expected an array of strings, found {Describe(v)}"); return []; }
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) { Fail(name, $"expected an array of strings, found an element {Describe(item)}"); return []; }
            list.Add(item.GetString()!);
        }
        return [.. list];
    }

    public bool? OptionalBool(string name)
    {
        if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        Fail(name, $"expected true, false or null, found {Describe(v)}");
        return null;
    }

    public int? OptionalInt(string name)
    {
        if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        Fail(name, $"expected an integer or null, found {Describe(v)}");
        return null;
    }

    public bool Bool(string name)
    {
        if (!Get(name, true, out var v)) return false;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        Fail(name, $"expected true or false, found {Describe(v)}");
        return false;
    }

    public uint UInt32(string name)
    {
        if (!Get(name, true, out var v)) return 0;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetUInt32(out uint u)) return u;
        Fail(name, $"expected an integer 0..4294967295, found {Describe(v)}");
        return 0;
    }

    /// <summary>MAXPHYADDR, within the range the checks accept.</summary>
    public int MaxPhyAddr(string name, int min, int max)
    {
        if (!Get(name, true, out var v)) return 0;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
        {
            Fail(name, $"expected an integer, found {Describe(v)}");
            return 0;
        }
        if (i < min || i > max) Fail(name, $"{i} is out of range {min}..{max}");
        return i;
    }

    public uint Hex32(string name) => (uint)Hex(name, uint.MaxValue, "a 32-bit field");
    public ulong Hex64(string name) => Hex(name, ulong.MaxValue, "a 64-bit field");

    public uint? OptionalHex32(string name)
    {
        if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return (uint)ParseHex(name, v, uint.MaxValue, "a 32-bit field");
    }

    public ulong Hex(string name, ulong max, string what, bool required = true) =>
        Get(name, required, out var v) ? ParseHex(name, v, max, what) : 0;

    private ulong ParseHex(string name, JsonElement v, ulong max, string what)
    {
        if (v.ValueKind != JsonValueKind.String) { Fail(name, $"expected a hex string such as \"0x1f\", found {Describe(v)}"); return 0; }
        string s = v.GetString()!;
        if (s.Length < 3 || s[0] != '0' || (s[1] | 0x20) != 'x' ||
            !ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
        {
            bool tooLong = s.Length > 18 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
                s.AsSpan(2).IndexOfAnyExcept("0123456789abcdefABCDEF") < 0;
            Fail(name, tooLong ? $"\"{s}\" is out of range for {what}" : $"\"{s}\" is not a hex value (0x followed by hex digits)");
            return 0;
        }
        if (value > max) { Fail(name, $"\"{s}\" is out of range for {what} (max 0x{max:x})"); return 0; }
        return value;
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"\"{v.GetString()}\"",
        JsonValueKind.Null => "null",
        _ => v.GetRawText(),
    };
}
