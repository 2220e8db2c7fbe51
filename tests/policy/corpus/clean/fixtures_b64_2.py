PNG_FIXTURE = "+0KDTs5bSh9WBuB+ffBaTDhmf6jEz5kr54Jg514eI/hAQxv3gosdDgGaDGKT4uS43hazcdUSZGfAJ2ht+L1INwpls7eR4qtK71tWGYWMdQFyjGRAFsv4LoTbQHcRASaJARY7Ljw/ofockQn3LIsb9kOli/YjBi/B"

def load_fixture():
    return PNG_FIXTURE
