require 'net/http'

module Auth
  class Client
    def initialize(timeout: 5)
      @timeout = timeout
    end
  end
end

cfg = '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'
client_id_b = 'ghs_ruOaHPdiXnRX0EWZaEa8vAtAtHoerkx4pma2'
cfg = 'glpat-gEVQAuEtWJlZV7DGeox2'
