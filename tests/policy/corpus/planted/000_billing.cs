using System;

namespace Example.Billing
{
    public static class Settings
    {
        public static void Load()
        {
        var upstream = "AKIA2X1YDICBBPBHM13X";
        var awsSecretKey = "cFrTLqYBxugF8mvWZn8rt+zJGkBUHnRwXme3UlxI";
        var data = "DefaultEndpointsProtocol=https;AccountName=store180;AccountKey=yt4VPlf61npx09JxhiobaKsmwa23fQmY+oR+tYJFleYM3IfOY+yynScySBXdMqiRmMd5JjxbLVfxpP8FPdiifr==;EndpointSuffix=core.windows.net";
            Console.WriteLine("loaded");
        }
    }
}
