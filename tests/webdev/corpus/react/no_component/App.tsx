const Dashboard = () => <div className="p-4">Dashboard</div>;
const Sidebar = () => <nav>Menu</nav>;
