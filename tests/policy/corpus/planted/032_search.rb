require 'net/http'

module Search
  class Client
    def initialize(timeout: 5)
      @timeout = timeout
    end
  end
end

AWS_SECRET_ACCESS_KEY = 'b3YXYFr50tcgnb3NwP4afO4pCNrItztsqNRdn2EQ'
data = 'DefaultEndpointsProtocol=https;AccountName=store631;AccountKey=k3TdVoU234uOyEvXCSSWbE1Fj5pO3WmJUbJ6FREk1QHqiP52euqbkPW70S/2ouVMDT/5MQuxyhqXLaSvYGH4IG==;EndpointSuffix=core.windows.net'
BROKER_URL = 'mongodb://app:Y7ZjP46A+V_!u*&3RG@db8.prod.example.net:4354/main'
