// A managed copy of an x8_token snapshot. The native snapshot is freed (and its copy of the token wiped) as soon
// as this copy is made, so an X8Token owns no native memory and needs no Dispose.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace X8
{
    /// <summary>One access token as x8 holds it: value, type, expiry and the API products it carries.</summary>
    public sealed class X8Token
    {
        internal X8Token(string value, string type, DateTimeOffset expiresAt, TimeSpan lifetime, IList<string> products)
        {
            Value = value;
            Type = type;
            ExpiresAt = expiresAt;
            Lifetime = lifetime;
            Products = new ReadOnlyCollection<string>(products);
        }

        /// <summary>The access token, for <c>Authorization: Bearer &lt;Value&gt;</c>. A secret: never log it.</summary>
        public string Value { get; private set; }

        /// <summary>The endpoint's token_type as sent ("BearerToken" for 8x8); requests use the Bearer scheme regardless.</summary>
        public string Type { get; private set; }

        /// <summary>When the token expires by the local clock (receipt time plus its lifetime). x8 itself decides
        /// freshness on a monotonic clock, so wall-clock jumps do not affect the cache.</summary>
        public DateTimeOffset ExpiresAt { get; private set; }

        /// <summary>The lifetime the endpoint granted (expires_in).</summary>
        public TimeSpan Lifetime { get; private set; }

        /// <summary>The API products the token carries, e.g. "analytics realtime-api".</summary>
        public IReadOnlyList<string> Products { get; private set; }

        /// <summary>Whether the token carries <paramref name="product"/>, ignoring ASCII case (as x8 compares).</summary>
        public bool HasProduct(string product)
        {
            if (product == null)
                throw new ArgumentNullException("product");
            foreach (var p in Products)
                if (AsciiEqualsIgnoreCase(p, product))
                    return true;
            return false;
        }

        /// <summary>Describes the token without its value, so that logging a token never leaks it.</summary>
        public override string ToString()
        {
            return string.Format("{0} token (value hidden), expires {1:o}, products [{2}]",
                Type, ExpiresAt, string.Join(", ", Products));
        }

        private static bool AsciiEqualsIgnoreCase(string a, string b)
        {
            if (a.Length != b.Length)
                return false;
            for (int i = 0; i < a.Length; i++)
                if (AsciiLower(a[i]) != AsciiLower(b[i]))
                    return false;
            return true;
        }

        private static char AsciiLower(char c)
        {
            return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
        }

        /// <summary>Copies everything out of a native snapshot; the caller frees the snapshot right after.</summary>
        internal static X8Token CopyFrom(X8TokenHandle token)
        {
            var count = (long)NativeMethods.x8_token_product_count(token).ToUInt64();
            var products = new List<string>((int)count);
            for (long i = 0; i < count; i++)
                products.Add(Utf8.Decode(NativeMethods.x8_token_product(token, new UIntPtr((ulong)i))) ?? string.Empty);
            return new X8Token(
                Utf8.Decode(NativeMethods.x8_token_value(token)),
                Utf8.Decode(NativeMethods.x8_token_type(token)),
                DateTimeOffset.FromUnixTimeMilliseconds(NativeMethods.x8_token_expires_at_ms(token)),
                TimeSpan.FromSeconds(NativeMethods.x8_token_lifetime_secs(token)),
                products);
        }
    }
}
