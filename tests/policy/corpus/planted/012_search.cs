using System;

namespace Example.Search
{
    public static class Settings
    {
        public static void Load()
        {
        var upstream = "sk_live_ocKAktOxR4Dx20Ut81G0UwlP";
        var auth_token = "MezEyxGnU3AlAICeftPnSEIrXqI5L8MQa8meXCl";
        var upstream = "AKIA2O1BON7TM8R8NZNN";
            Console.WriteLine("loaded");
        }
    }
}
