using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DatacenterOs.Security;

/// <summary>
/// Hashes kept in the auth file. Secrets (passwords): PBKDF2-HMAC-SHA256 with a 16-byte random salt
/// (<see cref="Rfc2898DeriveBytes.Pbkdf2(string, byte[], int, HashAlgorithmName, int)"/>, RFC 8018),
/// written <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (salt and 32-byte hash in base64). Bearer tokens: random 32-byte
/// values, stored as <c>sha256$HEX</c> (a token has full entropy, so a fast hash suffices).
/// </summary>
public static class SecretHasher
{
    /// <summary>Iterations of new secret hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA256 is 600,000).</summary>
    public const int DefaultIterations = 600_000;

    private const string Pbkdf2Prefix = "pbkdf2-sha256$";
    private const string TokenPrefix = "sha256$";

    /// <summary>Hashes a secret with a fresh salt.</summary>
    /// <param name="secret">The password.</param>
    /// <param name="iterations">PBKDF2 iterations.</param>
    public static string HashSecret(string secret, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(secret, salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"{Pbkdf2Prefix}{iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>True when <paramref name="secret"/> matches <paramref name="stored"/> (constant-time comparison).</summary>
    /// <exception cref="FormatException"><paramref name="stored"/> is not a <c>pbkdf2-sha256$…</c> hash.</exception>
    public static bool VerifySecret(string secret, string stored)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(stored);
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] + "$" != Pbkdf2Prefix || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
        {
            throw new FormatException("a secret hash has the form pbkdf2-sha256$ITERATIONS$SALT$HASH (dcosd hash-secret makes one)");
        }

        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(secret, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A new random bearer token (43 URL-safe characters).</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The stored form of a bearer token: <c>sha256$HEX</c>.</summary>
    public static string HashToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return TokenPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>True when <paramref name="stored"/> has the bearer token hash form.</summary>
    public static bool IsTokenHash(string stored) =>
        stored is not null && stored.StartsWith(TokenPrefix, StringComparison.Ordinal) && stored.Length == TokenPrefix.Length + 64;
}
