using System;

namespace Example.Orders
{
    public static class Settings
    {
        public static void Load()
        {
        var upstream = "xoxb-29407146574-36532044952-xy3G8MyIowfbJ5WnxAFNVxnr";
        var client_id_b = "https://hooks.slack.com/services/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";
        var value = "rk_live_ouHTqKU4Dmoikd739xK7N7Wa";
            Console.WriteLine("loaded");
        }
    }
}
