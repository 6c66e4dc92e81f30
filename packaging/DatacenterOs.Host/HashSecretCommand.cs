using DatacenterOs.Security;

namespace DatacenterOs.Host;

/// <summary><c>dcosd hash-secret</c>: prints the auth-file hash of a secret read from stdin, or a new token and its hash.</summary>
internal static class HashSecretCommand
{
    public static int Run(bool token, TextReader input, TextWriter output, TextWriter error)
    {
        if (token)
        {
            var value = SecretHasher.NewToken();
            output.WriteLine($"token: {value}");
            output.WriteLine($"tokenHashes entry: {SecretHasher.HashToken(value)}");
            return 0;
        }

        var secret = input.ReadLine();
        if (string.IsNullOrEmpty(secret))
        {
            error.WriteLine("dcosd hash-secret: give the secret on stdin, e.g. echo -n 's3cret' | dcosd hash-secret");
            return 2;
        }

        output.WriteLine(SecretHasher.HashSecret(secret));
        return 0;
    }
}
