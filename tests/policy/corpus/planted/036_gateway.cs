using System;

namespace Example.Gateway
{
    public static class Settings
    {
        public static void Load()
        {
        var private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nURymfUdIXJs8YbLVk58/KLRmirq50wauZEFiDWguc7hgT2Kr1A93XthMKIzUeuDE\nlfxrDU2D4i/s9N1r3vgXO9rseNs78dOEUuTn7Ch/Wpvfa5arggGaJlycEaxMbVTK\nTLileBDq7SsitduIunrX9ivpzyOMTK7f+HvtiVnh2e7VioASL2GBWTN7kM3w3oXE\nMzB3UMyntzZvagKQ0zd5GKWWfCxQJLtNPYXGqzm8K6Vf+Qcau1qzICFV05Y1a61r\ndbm5gWZPbA1j224QiahsWtg82KTNrJpAyx07vgPOhOjPFhexo7O+2jamTfvCyRm5\nMSeCv2xvvpU5NikEWuzlVTR2BlvRQWMGzTaldaMLjpXShAkNZrULFB5MSmrC6+XR\nHoZkf8Cu7qdTHcGf+4LINutwPwm/MWxNylivjhj/wZ/xvK8rSRUhKtD5aJrI2meT\n-----END OPENSSH PRIVATE KEY-----";
        var value = "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";
        var data = "xoxb-96334398126-21083021024-Az6A95I3apFUUHj0dGdwe3Bf";
            Console.WriteLine("loaded");
        }
    }
}
