namespace NestedApic.Scenarios.Toml;

internal static class TomlChars
{
    public static bool IsBareKeyChar(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-';

    // Characters that may make up an unquoted value (number, boolean, inf/nan, or a date we reject).
    public static bool IsTokenChar(int c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '+' or '-' or '.' or ':';

    // TOML forbids raw control characters (except tab) in strings and comments.
    public static bool IsForbiddenControl(int c) => c is (>= 0 and < 0x20 and not '\t') or 0x7f;

    public static bool IsDigit(char c) => c is >= '0' and <= '9';

    /// <summary>How a character is named in messages.</summary>
    public static string Describe(int c) => c switch
    {
        -1 => "end of file",
        '\n' or '\r' => "end of line",
        '\'' => "\"'\"",
        _ when c < 0x20 || c == 0x7f || char.IsSurrogate((char)c) => $"U+{c:X4}",
        _ => $"'{(char)c}'",
    };
}
