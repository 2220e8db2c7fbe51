require 'net/http'

module Billing
  class Client
    def initialize(timeout: 5)
      @timeout = timeout
    end
  end
end

BROKER_URL = 'mongodb://svc_user:cc9x82ZQoL%@db9.prod.example.net:4836/main'
data = 'AIzaRhiBEzVeZPUAnabZ_J2ZNpxHMe8yI6wjeZ7'
data = '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'
